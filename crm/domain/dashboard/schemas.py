"""What the dashboard answers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from crm.lib.schemas import Schema


class RegionCount(Schema):
    region_code: str | None
    region_name: str
    count: int


class UnpaidDues(Schema):
    year: int
    count: int
    amount: Decimal


class ConventionEnding(Schema):
    id: UUID
    title: str
    partner_name: str
    ends_on: date | None
    renewal: str
    notice_deadline: date | None


class MandateEnding(Schema):
    id: UUID
    person_id: UUID
    person_name: str
    organisation_name: str
    role: str
    term_end: date | None


class NextEvent(Schema):
    id: UUID
    title: str
    kind: str
    starts_at: datetime
    capacity: int | None
    answers: dict[str, int]


class RecentCampaign(Schema):
    id: UUID
    name: str
    kind: str
    status: str
    started_at: datetime | None
    audience_count: int | None
    deliveries: dict[str, int]


class RunningImport(Schema):
    id: UUID
    filename: str
    kind: str
    status: str
    total: int
    processed: int


class Dashboard(Schema):
    today: date
    members_by_status: dict[str, int]
    members_by_region: list[RegionCount]
    dues_unpaid: UnpaidDues
    conventions_ending: list[ConventionEnding]
    mandates_ending: list[MandateEnding]
    next_events: list[NextEvent]
    recent_campaigns: list[RecentCampaign]
    imports_running: list[RunningImport]
