from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from crm.db.models.campaign import CampaignKind, CampaignStatus, DeliveryStatus
from crm.domain.campaigns.content import Content
from crm.lib.schemas import Email, Schema, SingleLine
from crm.lib.timezones import PARIS_HELP, ParisDateTime


class CampaignCreate(Schema):
    name: str = Field(min_length=1, max_length=200)
    kind: CampaignKind = CampaignKind.NEWSLETTER
    subject: SingleLine = Field(min_length=1, max_length=300)
    preheader: str | None = Field(default=None, max_length=300)
    from_name: SingleLine | None = Field(default=None, max_length=200, description="Defaults to the association's name")
    from_email: Email | None = Field(default=None, description="Defaults to the association's sender address")
    reply_to: Email | None = None
    list_id: UUID
    segment_id: UUID | None = Field(default=None, description="Narrows the list to the people the segment matches")
    publication_id: UUID | None = Field(default=None, description="The publication an announcement presents")
    event_id: UUID | None = Field(default=None, description="The event an invitation invites to (required then)")
    template: str = Field(
        default="newsletter",
        max_length=100,
        description="newsletter, announcement or invitation (an invitation's default)",
    )
    content: Content = Field(default_factory=Content)
    is_public: bool = Field(default=False, description="Shown on the public archive, without personal data")


class CampaignUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: CampaignKind | None = None
    subject: SingleLine | None = Field(default=None, min_length=1, max_length=300)
    preheader: str | None = Field(default=None, max_length=300)
    from_name: SingleLine | None = Field(default=None, max_length=200)
    from_email: Email | None = None
    reply_to: Email | None = None
    list_id: UUID | None = None
    segment_id: UUID | None = None
    publication_id: UUID | None = None
    event_id: UUID | None = None
    template: str | None = Field(default=None, max_length=100)
    content: Content | None = None
    is_public: bool | None = None


class CampaignRead(Schema):
    id: UUID
    name: str
    kind: CampaignKind
    status: CampaignStatus
    subject: str
    preheader: str | None
    from_name: str
    from_email: str
    reply_to: str | None
    list_id: UUID
    segment_id: UUID | None
    publication_id: UUID | None
    event_id: UUID | None
    template: str
    content: dict[str, Any]
    is_public: bool
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    paused_reason: str | None
    audience_count: int | None
    suppressed_count: int | None
    created_at: datetime
    updated_at: datetime


class Schedule(Schema):
    scheduled_at: ParisDateTime = Field(description=f"When to send: {PARIS_HELP}")


class Progress(Schema):
    status: CampaignStatus
    paused_reason: str | None
    audience: int | None = Field(description="Recipients found when the send started, suppressed ones included")
    suppressed: int | None
    queued: int
    leased: int
    sent: int
    failed: int
    bounced: int
    unsubscribed: int = Field(
        description="People who left: the deliveries not sent because the person had left the list, plus "
        "the people who left through this campaign's links (one-click or preference page), each once"
    )
    cancelled: int


class AudienceCount(Schema):
    recipients: int
    suppressed: int
    to_send: int


class TestSend(Schema):
    person_id: UUID | None = Field(
        default=None, description="Whose fields fill the message; the first recipient when left out"
    )


class DeliveryRead(Schema):
    id: UUID
    campaign_id: UUID
    person_id: UUID
    email: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    smtp_response: str | None
    updated_at: datetime


class ReceivedCampaignRead(Schema):
    """One campaign one of a member's people was sent: the campaigns part of a member's page."""

    id: UUID = Field(description="The delivery")
    campaign_id: UUID
    campaign_name: str
    subject: str
    kind: CampaignKind
    person_id: UUID
    person_name: str
    email: str
    status: DeliveryStatus
    sent_at: datetime | None
