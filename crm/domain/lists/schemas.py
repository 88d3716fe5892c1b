from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar.datastructures import UploadFile
from pydantic import AfterValidator, Field, model_validator

from crm.db.models.lists import LegalBasis, ListKind, SubscriptionStatus
from crm.db.models.suppression import SuppressionReason
from crm.lib.schemas import NOTES_MAX, Email, Schema, SingleLine, normalise_email

BoundedEmail = Annotated[str, Field(max_length=320), AfterValidator(normalise_email)]
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
    person_id: UUID | None = Field(default=None, description="The person, or give `email` instead")
    email: BoundedEmail | None = Field(default=None, description="The person's address, instead of `person_id`")
    list_id: UUID
    legal_basis: LegalBasis
    source: str = Field(default="staff", min_length=1, max_length=100, description='e.g. "staff", "import", "event"')
    consent_text: str | None = Field(default=None, max_length=5000, description="The text the person agreed to")
    consent_version: str | None = Field(default=None, max_length=50)
    consented_at: datetime | None = Field(default=None, description="When consent was given; now if left out")

    @model_validator(mode="after")
    def _one_person(self) -> SubscriptionCreate:
        if (self.person_id is None) == (self.email is None):
            raise ValueError("give either person_id or email")
        return self


MAX_BULK = 50_000


class BulkSubscribe(Schema):
    """Who to subscribe (any of the three, together), and the proof that holds for all of them."""

    segment_id: UUID | None = Field(default=None, description="Everyone the segment selects today")
    person_ids: list[UUID] = Field(default_factory=list, max_length=MAX_BULK)
    emails: list[Annotated[str, Field(max_length=320)]] = Field(
        default_factory=list, max_length=MAX_BULK, description="Addresses of people already in the CRM"
    )
    legal_basis: LegalBasis
    source: str = Field(default="staff", min_length=1, max_length=100, description='e.g. "staff", "import", "event"')
    consent_text: str | None = Field(default=None, max_length=5000, description="The text the people agreed to")
    consent_version: str | None = Field(default=None, max_length=50)
    consented_at: datetime | None = Field(default=None, description="When consent was given; now if left out")

    @model_validator(mode="after")
    def _someone(self) -> BulkSubscribe:
        if self.segment_id is None and not self.person_ids and not self.emails:
            raise ValueError("give segment_id, person_ids or emails")
        return self


@dataclass
class CsvSubscribeUpload:
    """The multipart form of a CSV subscription; the values are checked as `BulkSubscribe`."""

    file: UploadFile
    legal_basis: str
    source: str | None = None
    consent_text: str | None = None
    consent_version: str | None = None


class BulkSubscribeResult(Schema):
    subscribed: int = Field(description="Subscribed now (legitimate interest, or consent on a single opt-in list)")
    pending: int = Field(description="Waiting for their confirmation (consent on a double opt-in list): e-mailed")
    already: int = Field(description="Already subscribed or pending: unchanged")
    left_before: int = Field(
        description="Unsubscribed from this list before: not subscribed again in bulk (one by one, with a new proof)"
    )
    suppressed: list[str] = Field(description="Addresses on the suppression list: not subscribed")
    no_email: int = Field(description="People without an e-mail address")
    unknown_person_ids: list[UUID]
    unknown_emails: list[str] = Field(description="Valid addresses that no person in the CRM has")
    invalid_emails: list[str] = Field(description="Entries that are not e-mail addresses")


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
