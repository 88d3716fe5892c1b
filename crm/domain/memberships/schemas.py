from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import Field

from crm.db.models.membership import DuesStatus, MembershipStatus
from crm.lib.schemas import INT32_MAX, NOTES_MAX, Day, Schema

# A plain number, not a Decimal: the OpenAPI document carries it as `maximum`, and JSON-schema
# tools (schemathesis) cannot add a Decimal to their floats.
MAX_EUROS = 99_999_999.99
Euros = Field(ge=0, le=MAX_EUROS, max_digits=10, decimal_places=2, description="Euros, two decimals at most")


class MembershipCreate(Schema):
    """An organisation's membership. `changed_on` and `note` describe this first status in the
    history (the date defaults to today). Becoming active fills `member_since`, lapsing or resigning
    fills `ended_on`, with that date, unless they are sent."""

    organisation_id: UUID
    status: MembershipStatus = MembershipStatus.PROSPECT
    member_since: Day | None = None
    ended_on: Day | None = None
    notes: str | None = Field(default=None, max_length=NOTES_MAX)
    changed_on: Day | None = Field(default=None, description="When the status took effect (default today)")
    note: str | None = Field(
        default=None, max_length=NOTES_MAX, description="Why the status changed, kept in the history"
    )


class MembershipUpdate(Schema):
    """The fields sent are changed. A new status is appended to the history with `changed_on`
    (default today) and `note`."""

    status: MembershipStatus | None = None
    member_since: Day | None = None
    ended_on: Day | None = None
    notes: str | None = Field(default=None, max_length=NOTES_MAX)
    changed_on: Day | None = Field(default=None, description="When the new status took effect (default today)")
    note: str | None = Field(
        default=None, max_length=NOTES_MAX, description="Why the status changed, kept in the history"
    )


class MembershipRead(Schema):
    id: UUID
    organisation_id: UUID
    organisation_name: str
    status: MembershipStatus
    member_since: date | None
    ended_on: date | None
    notes: str | None
    created_at: datetime
    updated_at: datetime


class StatusChangeRead(Schema):
    id: UUID
    status: MembershipStatus
    changed_on: date
    note: str | None
    created_at: datetime


class FeeBandCreate(Schema):
    """One line of a year's fee schedule: the dues of members whose population is at least
    `min_population` and below `max_population` (no upper bound when null)."""

    year: int = Field(ge=2000, le=2100)
    min_population: int = Field(default=0, ge=0, le=INT32_MAX)
    max_population: int | None = Field(
        default=None, gt=0, le=INT32_MAX, description="Exclusive; null for no upper bound"
    )
    amount: Decimal = Euros
    label: str | None = Field(default=None, max_length=100)


class FeeBandUpdate(Schema):
    year: int | None = Field(default=None, ge=2000, le=2100)
    min_population: int | None = Field(default=None, ge=0, le=INT32_MAX)
    max_population: int | None = Field(default=None, gt=0, le=INT32_MAX)
    amount: Decimal | None = Field(default=None, ge=0, le=MAX_EUROS, max_digits=10, decimal_places=2)
    label: str | None = Field(default=None, max_length=100)


class FeeBandRead(Schema):
    id: UUID
    year: int
    min_population: int
    max_population: int | None
    amount: Decimal
    label: str | None
    created_at: datetime
    updated_at: datetime


class DuesCreate(Schema):
    """A year's dues of an organisation: the amount comes from that year's fee band for its
    population unless `amount` is sent."""

    organisation_id: UUID
    year: int = Field(ge=2000, le=2100)
    amount: Decimal | None = Field(default=None, ge=0, le=MAX_EUROS, max_digits=10, decimal_places=2)
    notes: str | None = Field(default=None, max_length=NOTES_MAX)


class DuesUpdate(Schema):
    """Marking dues paid without `paid_on` records today."""

    status: DuesStatus | None = None
    paid_on: Day | None = None
    amount: Decimal | None = Field(default=None, ge=0, le=MAX_EUROS, max_digits=10, decimal_places=2)
    notes: str | None = Field(default=None, max_length=NOTES_MAX)


class DuesGenerate(Schema):
    year: int = Field(ge=2000, le=2100)


class SkippedMember(Schema):
    organisation_id: UUID
    name: str
    reason: str


class DuesGenerated(Schema):
    year: int
    created: int = Field(description="Dues invoiced by this run")
    already_invoiced: int = Field(description="Active members that already had dues for the year")
    skipped: list[SkippedMember] = Field(description="Active members left without dues, and why")


class DuesRead(Schema):
    id: UUID
    organisation_id: UUID
    organisation_name: str
    year: int
    amount: Decimal
    status: DuesStatus
    invoiced_on: date | None
    paid_on: date | None
    notes: str | None
    created_at: datetime
    updated_at: datetime
