"""Partnership conventions (conventions de partenariat)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import Field, HttpUrl

from crm.db.models.convention import ConventionStatus, Renewal
from crm.lib.schemas import NOTES_MAX, Day, Schema


class ConventionCreate(Schema):
    organisation_id: UUID = Field(description="The partner organisation")
    title: str = Field(min_length=1, max_length=300)
    status: ConventionStatus = ConventionStatus.DRAFT
    signed_on: Day | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None
    renewal: Renewal = Renewal.EXPLICIT
    notice_period_days: int = Field(default=0, ge=0, le=3650, description="Notice before the end (tacit renewal)")
    renewal_term_months: int | None = Field(default=None, ge=1, le=240, description="Length of a tacit renewal")
    document_url: HttpUrl | None = Field(default=None, description="Link to the signed document (http or https)")
    commitments: str | None = Field(default=None, max_length=NOTES_MAX)


class ConventionUpdate(Schema):
    organisation_id: UUID | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    status: ConventionStatus | None = None
    signed_on: Day | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None
    renewal: Renewal | None = None
    notice_period_days: int | None = Field(default=None, ge=0, le=3650)
    renewal_term_months: int | None = Field(default=None, ge=1, le=240)
    document_url: HttpUrl | None = None
    commitments: str | None = Field(default=None, max_length=NOTES_MAX)


class ConventionRenew(Schema):
    ends_on: Day | None = Field(
        default=None, description="The new end; required for explicit renewal, else the term is extended"
    )
    signed_on: Day | None = None


class ConventionRead(Schema):
    id: UUID
    organisation_id: UUID
    organisation_name: str
    title: str
    status: ConventionStatus
    signed_on: date | None
    starts_on: date | None
    ends_on: date | None
    renewal: Renewal
    notice_period_days: int
    renewal_term_months: int | None
    notice_deadline: date | None = Field(description="Tacit renewal: last day to give notice (end minus notice)")
    document_url: str | None
    commitments: str | None
    due: Literal["notice", "end"] | None = Field(
        default=None, description="With due_within_days: what falls due in the window"
    )
    due_on: date | None = Field(default=None, description="With due_within_days: when")
    created_at: datetime
    updated_at: datetime
