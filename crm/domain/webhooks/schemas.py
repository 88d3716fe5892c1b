"""Partner webhooks: endpoints and their deliveries, as staff and partners see them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from crm.db.models.webhook import WebhookDeliveryStatus, WebhookEvent
from crm.lib.schemas import Schema, SingleLine

URL_MAX = 2000


class EndpointCreate(Schema):
    url: str = Field(
        min_length=1,
        max_length=URL_MAX,
        description="An https:// URL whose name resolves to public addresses only",
        examples=["https://partner.example.org/hooks/crm"],
    )
    event_types: list[WebhookEvent] = Field(min_length=1, max_length=len(WebhookEvent))
    description: SingleLine | None = Field(default=None, max_length=500)


class StaffEndpointCreate(EndpointCreate):
    organisation_id: UUID = Field(description="The partner organisation (is_partner)")


class EndpointUpdate(Schema):
    url: str | None = Field(default=None, min_length=1, max_length=URL_MAX)
    event_types: list[WebhookEvent] | None = Field(default=None, min_length=1, max_length=len(WebhookEvent))
    description: SingleLine | None = Field(default=None, max_length=500)


class EndpointRead(Schema):
    id: UUID
    organisation_id: UUID
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None = Field(description="Why it was disabled (a 410, days of failures, staff)")
    disabled_at: datetime | None
    failing_since: datetime | None = Field(description="Since when every delivery failed; null while it answers")
    # The secret itself is shown once, on creation and rotation.
    secret_hint: str = Field(description="The secret's first characters, to tell secrets apart")
    previous_secret_expires_at: datetime | None = Field(
        description="During a rotation, until when the old secret signs too"
    )
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(EndpointRead):
    secret: str = Field(description="The `whsec_` signing secret: shown only now, keep it")


class EndpointDisable(Schema):
    reason: SingleLine = Field(min_length=1, max_length=500)


class DeliveryRead(Schema):
    id: UUID
    endpoint_id: UUID
    organisation_id: UUID
    event_type: str
    message_id: str = Field(description="The webhook-id header: the same on every attempt and replay")
    status: WebhookDeliveryStatus
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    response: str | None = Field(description="The partner's last answer (status and start of body), or the fault")
    replay_of_id: UUID | None
    body: str
    created_at: datetime
    updated_at: datetime


class ReplayFailed(Schema):
    since: datetime = Field(description="Replays the failed and skipped deliveries created since then")


class ReplayCount(Schema):
    replayed: int
