"""People (contacts, acteurs) and their positions: what the API reads and accepts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from crm.db.models.person import PositionKind
from crm.lib.schemas import NOTES_MAX, Day, Email, Schema, SingleLine

# ISO 639-1, optionally with a region: fr, en, fr-BE.
LANGUAGE_PATTERN = r"^[a-z]{2}(-[A-Z]{2})?$"


class PersonCreate(Schema):
    first_name: SingleLine = Field(min_length=1, max_length=100)
    last_name: SingleLine = Field(min_length=1, max_length=100)
    email: Email | None = None
    phone: str | None = Field(default=None, max_length=40)
    language: str = Field(default="fr", max_length=5, pattern=LANGUAGE_PATTERN)
    notes: str | None = Field(default=None, max_length=NOTES_MAX)


class PersonUpdate(Schema):
    """Only the fields sent change; `email`, `phone` and `notes` may be sent as null to clear them."""

    first_name: SingleLine | None = Field(default=None, min_length=1, max_length=100)
    last_name: SingleLine | None = Field(default=None, min_length=1, max_length=100)
    email: Email | None = None
    phone: str | None = Field(default=None, max_length=40)
    language: str | None = Field(default=None, max_length=5, pattern=LANGUAGE_PATTERN)
    notes: str | None = Field(default=None, max_length=NOTES_MAX)


class CurrentPosition(Schema):
    id: UUID
    title: str
    kind: PositionKind
    organisation_id: UUID
    organisation_name: str
    started_on: date | None


class PersonRead(Schema):
    id: UUID
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    language: str
    notes: str | None
    positions: list[CurrentPosition] = Field(description="Current positions only; see /people/{id}/positions")
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class PositionCreate(Schema):
    person_id: UUID
    organisation_id: UUID
    title: str = Field(min_length=1, max_length=200, description="maire, adjoint·e au numérique, DGS, DSI...")
    kind: PositionKind
    started_on: Day | None = None
    ended_on: Day | None = None


class PositionUpdate(Schema):
    organisation_id: UUID | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    kind: PositionKind | None = None
    started_on: Day | None = None
    ended_on: Day | None = None


class PositionRead(Schema):
    id: UUID
    person_id: UUID
    person_name: str
    organisation_id: UUID
    organisation_name: str
    title: str
    kind: PositionKind
    started_on: date | None
    ended_on: date | None
    is_current: bool
    created_at: datetime
    updated_at: datetime


class JobChange(Schema):
    """A person leaves some positions and takes a new one on the same day."""

    organisation_id: UUID
    title: str = Field(min_length=1, max_length=200)
    kind: PositionKind
    on: Day = Field(description="The day the new position starts and the ended ones end")
    end_current: Annotated[list[UUID], Field(max_length=100)] | Literal["all"] = Field(
        default="all", description='Ids of the current positions to end, or "all" (the default)'
    )


class JobChangeRead(Schema):
    position: PositionRead
    ended: list[PositionRead]
