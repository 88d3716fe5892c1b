from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from crm.db.models.membership import MembershipStatus
from crm.db.models.organisation import OrganisationKind
from crm.lib.schemas import INT32_MAX, NOTES_MAX, Email, Schema


class OrganisationCreate(Schema):
    """A new organisation. For a commune (`insee_code`) or an EPCI (`siren`) the official data wins:
    name, population, département, région and intercommunality are taken from the reference
    geography, whatever was sent. Other kinds are created by name; a département or a région may
    instead give its code, which fills the name when none is sent."""

    kind: OrganisationKind
    name: str | None = Field(default=None, min_length=1, max_length=200)
    insee_code: str | None = Field(
        default=None, max_length=10, description="INSEE code of a commune, e.g. 2A004 or 01053"
    )
    siren: str | None = Field(default=None, max_length=20, description="SIREN (9 digits, Luhn check digit) of an EPCI")
    population: int | None = Field(default=None, ge=0, le=INT32_MAX)
    departement_code: str | None = Field(default=None, max_length=3)
    region_code: str | None = Field(default=None, max_length=3)
    is_partner: bool = False
    email: Email | None = None
    phone: str | None = Field(default=None, max_length=40)
    website: str | None = Field(default=None, max_length=500)
    address: str | None = Field(default=None, max_length=1000)
    notes: str | None = Field(default=None, max_length=NOTES_MAX)


class OrganisationUpdate(Schema):
    """The fields sent are changed. The kind and the official codes (INSEE code, SIREN) are
    identities and do not change: create another organisation instead."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    population: int | None = Field(default=None, ge=0, le=INT32_MAX)
    departement_code: str | None = Field(default=None, max_length=3)
    region_code: str | None = Field(default=None, max_length=3)
    is_partner: bool | None = None
    email: Email | None = None
    phone: str | None = Field(default=None, max_length=40)
    website: str | None = Field(default=None, max_length=500)
    address: str | None = Field(default=None, max_length=1000)
    notes: str | None = Field(default=None, max_length=NOTES_MAX)


class LabelSummary(Schema):
    year: int
    level: int = Field(description='Number of "@", 1 to 5')
    green: bool = Field(description='Whether the city got the green "@" that year')


class OrganisationRead(Schema):
    id: UUID
    kind: OrganisationKind
    name: str
    insee_code: str | None
    siren: str | None
    population: int | None
    departement_code: str | None
    departement_name: str | None
    region_code: str | None
    region_name: str | None
    epci_siren: str | None = Field(description="The intercommunality a commune belongs to")
    epci_name: str | None
    is_partner: bool
    email: str | None
    phone: str | None
    website: str | None
    address: str | None
    notes: str | None
    membership_status: MembershipStatus | None
    member_since: date | None
    latest_label: LabelSummary | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class TimelineEntry(Schema):
    """One fact of a member's story. `kind` says which (membership_started, membership_ended,
    membership_status, dues_invoiced, dues_paid, label, position_started, position_ended,
    mandate_started, mandate_ended, convention_signed, convention_ended, event_attended,
    campaign_received, audit); `record_id` is the record it is about (the event or the campaign
    for the last two); `data` holds the few fields that describe it."""

    at: datetime
    kind: str
    record_id: UUID
    person_id: UUID | None
    person_name: str | None
    data: dict[str, Any]
