"""Board mandates (mandats au conseil d'administration)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from crm.db.models.board import BoardRole
from crm.lib.schemas import Day, Schema


class MandateCreate(Schema):
    person_id: UUID
    organisation_id: UUID = Field(description="The organisation on behalf of which the seat is held")
    role: BoardRole = BoardRole.MEMBER
    term_start: Day
    term_end: Day | None = None


class MandateUpdate(Schema):
    person_id: UUID | None = None
    organisation_id: UUID | None = None
    role: BoardRole | None = None
    term_start: Day | None = None
    term_end: Day | None = None


class MandateRead(Schema):
    id: UUID
    person_id: UUID
    person_name: str
    organisation_id: UUID
    organisation_name: str
    role: BoardRole
    term_start: date
    term_end: date | None
    is_current: bool = Field(description="The term covers today")
    created_at: datetime
    updated_at: datetime


class BoardSeat(Schema):
    mandate_id: UUID
    person_id: UUID
    first_name: str
    last_name: str
    person_name: str
    organisation_id: UUID
    organisation_name: str
    role: BoardRole
    term_start: date
    term_end: date | None


class BoardRead(Schema):
    on: date
    seats: list[BoardSeat] = Field(
        description="President, vice-presidents, treasurer, secretary, then members; by name within a role"
    )
