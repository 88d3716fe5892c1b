from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field, model_validator

from crm.db.models.event import EventKind, EventStatus, InvitationStatus
from crm.lib.schemas import HttpLink, Schema, SingleLine
from crm.lib.timezones import PARIS_HELP, ParisDateTime

MAX_CAPACITY = 1_000_000

# With an offset (2027-03-12T14:30:00+01:00, ...Z) or without: then it is Europe/Paris time.


class EventCreate(Schema):
    kind: EventKind
    title: SingleLine = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20000)
    starts_at: ParisDateTime = Field(description=PARIS_HELP)
    ends_at: ParisDateTime = Field(description=PARIS_HELP)
    venue_name: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, max_length=1000)
    online_url: HttpLink | None = None
    capacity: int | None = Field(
        default=None, ge=0, le=MAX_CAPACITY, description="Seats, guests included; empty for no limit"
    )
    registration_deadline: ParisDateTime | None = Field(default=None, description=PARIS_HELP)
    guests_allowed: bool = False


class EventUpdate(Schema):
    kind: EventKind | None = None
    title: SingleLine | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20000)
    starts_at: ParisDateTime | None = Field(default=None, description=PARIS_HELP)
    ends_at: ParisDateTime | None = Field(default=None, description=PARIS_HELP)
    venue_name: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, max_length=1000)
    online_url: HttpLink | None = None
    capacity: int | None = Field(default=None, ge=0, le=MAX_CAPACITY)
    registration_deadline: ParisDateTime | None = Field(default=None, description=PARIS_HELP)
    guests_allowed: bool | None = None


class Figures(Schema):
    invited: int
    opened: int = Field(description="Invitees who opened the answer page")
    yes: int
    no: int
    waiting: int
    attended: int
    seats_taken: int = Field(description="Seats of the people who said yes, guests included")


class EventRead(Schema):
    id: UUID
    kind: EventKind
    title: str
    description: str | None
    starts_at: datetime
    ends_at: datetime
    starts_at_paris: str = Field(description="dd/mm/yyyy hh:mm, Europe/Paris")
    ends_at_paris: str
    venue_name: str | None
    address: str | None
    online_url: str | None
    capacity: int | None
    registration_deadline: datetime | None
    registration_deadline_paris: str | None
    guests_allowed: bool
    status: EventStatus
    ics_sequence: int
    figures: Figures
    created_at: datetime
    updated_at: datetime


class InvitationRead(Schema):
    id: UUID
    event_id: UUID
    person_id: UUID
    first_name: str
    last_name: str
    email: str | None
    campaign_id: UUID | None
    status: InvitationStatus
    with_guest: bool
    answered_at: datetime | None
    first_opened_at: datetime | None
    waiting_since: datetime | None
    checked_in_at: datetime | None


class AttendanceRead(Schema):
    """An event and one person's answer: the events part of a person's or a member's page."""

    event_id: UUID
    title: str
    kind: EventKind
    starts_at: datetime
    starts_at_paris: str
    event_status: EventStatus
    invitation_id: UUID
    person_id: UUID
    person_name: str
    status: InvitationStatus
    with_guest: bool
    answered_at: datetime | None
    checked_in_at: datetime | None


class EventInvite(Schema):
    """Who to invite (any of the three, together): no list to build first."""

    segment_id: UUID | None = Field(default=None, description="Everyone the segment selects today")
    person_ids: list[UUID] = Field(default_factory=list, max_length=50_000)
    emails: list[Annotated[str, Field(max_length=320)]] = Field(
        default_factory=list, max_length=50_000, description="Addresses of people already in the CRM"
    )

    @model_validator(mode="after")
    def _someone(self) -> EventInvite:
        if self.segment_id is None and not self.person_ids and not self.emails:
            raise ValueError("give segment_id, person_ids or emails")
        return self


class EventInviteResult(Schema):
    invited: int = Field(description="Invited now: each is e-mailed the invitation with the answer buttons")
    already: int = Field(description="Already invited to this event: unchanged, not written to again")
    suppressed: list[str] = Field(description="Addresses on the suppression list: not invited")
    no_email: int = Field(description="People without an e-mail address")
    unknown_person_ids: list[UUID]
    unknown_emails: list[str] = Field(description="Valid addresses that no person in the CRM has")
    invalid_emails: list[str] = Field(description="Entries that are not e-mail addresses")
