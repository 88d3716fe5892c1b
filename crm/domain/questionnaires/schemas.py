"""The JSON shapes of the questionnaires' staff API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field, StringConstraints

from crm.db.models.questionnaire import AnsweredBy, QuestionnaireKind, QuestionnaireStatus, ResponseStatus
from crm.domain.questionnaires.content import Content
from crm.lib.schemas import Email, Schema

Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,59}$", max_length=60)]


class Criterion(Schema):
    """A criterion the label's jury scores: points from 0 to `max`."""

    key: Key
    label: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    max: int = Field(default=10, ge=1, le=100)


class QuestionnaireCreate(Schema):
    title: Title
    description: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    kind: QuestionnaireKind = QuestionnaireKind.SURVEY
    answered_by: AnsweredBy = AnsweredBy.PERSON
    anonymous: bool = False
    content: Content = Field(default_factory=Content)
    closes_at: datetime | None = None
    reminder_dates: list[date] = Field(default=[], max_length=20)
    label_year: int | None = Field(default=None, ge=2000, le=2100)
    criteria: list[Criterion] = Field(default=[], max_length=30)


class QuestionnaireUpdate(Schema):
    title: Title | None = None
    description: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    answered_by: AnsweredBy | None = None
    anonymous: bool | None = None
    content: Content | None = None
    closes_at: datetime | None = None
    reminder_dates: list[date] | None = Field(default=None, max_length=20)
    criteria: list[Criterion] | None = Field(default=None, max_length=30)


class QuestionnaireRead(Schema):
    id: UUID
    title: str
    description: str | None
    kind: QuestionnaireKind
    status: QuestionnaireStatus
    answered_by: AnsweredBy
    anonymous: bool
    content: dict[str, Any]
    current_version: int | None
    closes_at: datetime | None
    reminder_dates: list[date]
    label_year: int | None
    criteria: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


class SendRequest(Schema):
    """Who is asked: a segment, a list's subscribers, chosen people (any together)."""

    segment_id: UUID | None = None
    list_id: UUID | None = None
    person_ids: list[UUID] = Field(default=[], max_length=50_000)


class ResponseRead(Schema):
    """An answer as staff see it: never who gave it when the questionnaire is anonymous."""

    id: UUID
    version: int
    status: ResponseStatus
    person_id: UUID | None
    organisation_id: UUID | None
    organisation_name: str | None = None
    region_code: str | None
    population_band: str | None
    submitted_at: datetime | None
    decided_level: int | None
    decided_green: bool | None
    answers: dict[str, Any] = {}


class JuryMemberCreate(Schema):
    """A staff account (`staff_id`), or an outsider (`name` and `email`) who gets a signed link."""

    staff_id: UUID | None = None
    name: Title | None = None
    email: Email | None = None
    response_ids: list[UUID] = Field(default=[], max_length=1_000)


class Mark(Schema):
    """A juror's points on one criterion of the year."""

    criterion: Key
    points: int = Field(ge=0, le=100)


class ScoreWrite(Schema):
    scores: list[Mark] = Field(max_length=30)
    comment: Annotated[str, StringConstraints(max_length=10_000)] | None = None


class Decision(Schema):
    level: int = Field(ge=1, le=5)
    green: bool = False


class OpenLabelYear(Schema):
    year: int = Field(ge=2000, le=2100)
    closes_at: datetime | None = None
    # Candidate non-members: people to invite beside the members' contacts.
    candidate_person_ids: list[UUID] = Field(default=[], max_length=10_000)
