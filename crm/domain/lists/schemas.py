from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from crm.db.models.mailing import LegalBasis, ListKind, SubscriptionStatus, SuppressionReason
from crm.lib.schemas import NOTES_MAX, Email, Schema, SingleLine

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class MailingListRead(Schema):
    id: UUID
    name: str
    slug: str
    description: str | None
    kind: ListKind
    is_public: bool = Field(description="Listed on the public subscribe and preference pages")
    double_opt_in: bool
    created_at: datetime
    updated_at: datetime


class MailingListCreate(Schema):
    name: SingleLine = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=100, pattern=SLUG_PATTERN, description="lower-case-with-hyphens")
    description: str | None = Field(default=None, max_length=NOTES_MAX)
    kind: ListKind = ListKind.NEWSLETTER
    is_public: bool = False
    double_opt_in: bool = True


class MailingListUpdate(Schema):
    name: SingleLine | None = Field(default=None, min_length=1, max_length=200)
    slug: str | None = Field(default=None, min_length=1, max_length=100, pattern=SLUG_PATTERN)
    description: str | None = Field(default=None, max_length=NOTES_MAX)
    kind: ListKind | None = None
    is_public: bool | None = None
    double_opt_in: bool | None = None


class SubscriptionRead(Schema):
    id: UUID
    person_id: UUID
    list_id: UUID
    status: SubscriptionStatus
    legal_basis: LegalBasis
    source: str
    consent_text: str | None
    consent_version: str | None
    consented_at: datetime | None
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None
    unsubscribe_reason: str | None
    created_at: datetime
    updated_at: datetime


class SubscriptionCreate(Schema):
    person_id: UUID
    list_id: UUID
    legal_basis: LegalBasis
    source: str = Field(default="staff", min_length=1, max_length=100, description='e.g. "staff", "import", "event"')
    consent_text: str | None = Field(default=None, max_length=5000, description="The text the person agreed to")
    consent_version: str | None = Field(default=None, max_length=50)
    consented_at: datetime | None = Field(default=None, description="When consent was given; now if left out")


class SubscriptionUpdate(Schema):
    status: SubscriptionStatus = Field(description="Only `unsubscribed`: subscribing again needs a new proof (POST)")
    unsubscribe_reason: str | None = Field(default=None, max_length=1000)


class SuppressionRead(Schema):
    id: UUID
    email_hash: str = Field(description="SHA-256 of the normalised address; the address itself is not kept")
    reason: SuppressionReason
    note: str | None
    created_at: datetime


class SuppressionCreate(Schema):
    email: Email
    reason: SuppressionReason = SuppressionReason.MANUAL
    note: str | None = Field(default=None, max_length=1000)
