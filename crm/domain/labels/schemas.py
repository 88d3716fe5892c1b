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


MAX_RESULTS = 5_000


class LabelResult(Schema):
    """One labelled city of a year's results."""

    code: str = Field(
        min_length=1,
        max_length=20,
        description="INSEE code of a commune (01053, 2A004, 1053 too) or SIREN of an EPCI (9 digits)",
    )
    level: int = Level
    green: bool = Field(default=False, description='The green "@" (since 2021)')


class LabelResultsBatch(Schema):
    """A year's results in one batch: each city gets this label for the year (created, or changed
    when it had another one). All or nothing: one bad row and nothing is written."""

    year: int = Year
    dry_run: bool = Field(default=False, description="Check and report what would change; write nothing")
    results: list[LabelResult] = Field(min_length=1, max_length=MAX_RESULTS)


class LabelResultOutcome(Schema):
    line: int = Field(description="The row: its line in the CSV file (header is line 1), or 1 + its index in a batch")
    code: str
    organisation_id: UUID | None = Field(description="None only in a dry run, for an organisation to be created")
    name: str
    level: int
    green: bool
    outcome: str = Field(description="created, updated (level or green changed) or unchanged")
    organisation_created: bool = Field(
        description="The commune or EPCI was not in the CRM yet: it is (or would be) created from the official data"
    )


class LabelResultsReport(Schema):
    year: int
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    organisations_created: int
    rows: list[LabelResultOutcome]
