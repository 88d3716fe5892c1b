from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from crm.db.models.organisation import OrganisationKind
from crm.lib.schemas import Schema

Year = Field(ge=2000, le=2100, description="The label's year")
Level = Field(ge=1, le=5, description='Number of "@", 1 to 5')


class LabelCreate(Schema):
    """A city's label for a year; only communes and EPCI are labelled, once a year each."""

    organisation_id: UUID
    year: int = Year
    level: int = Level
    green: bool = Field(default=False, description='The green "@" (since 2021)')


class LabelUpdate(Schema):
    year: int | None = Field(default=None, ge=2000, le=2100)
    level: int | None = Field(default=None, ge=1, le=5)
    green: bool | None = None


class LabelRead(Schema):
    id: UUID
    organisation_id: UUID
    organisation_name: str
    organisation_kind: OrganisationKind
    insee_code: str | None
    year: int
    level: int
    green: bool
    created_at: datetime
    updated_at: datetime


class PalmaresEntry(Schema):
    organisation_id: UUID
    name: str
    kind: OrganisationKind
    insee_code: str | None
    siren: str | None
    departement_code: str | None
    population: int | None
    level: int
    green: bool


class Palmares(Schema):
    """The palmarès of a year: the labelled, best first, and how many at each level."""

    year: int
    total: int
    by_level: dict[str, int] = Field(description='How many got each number of "@", keys "1" to "5"')
    green: int = Field(description='How many got the green "@"')
    items: list[PalmaresEntry]
