"""The staff dashboard: what needs attention today, in one read of a handful of grouped queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.board import Mandate
from crm.db.models.campaign import Campaign, Delivery
from crm.db.models.convention import Convention, ConventionStatus
from crm.db.models.event import Event, EventStatus, Invitation
from crm.db.models.imports import ImportBatch, ImportStatus
from crm.db.models.membership import Dues, DuesStatus, Membership, MembershipStatus
from crm.db.models.organisation import Organisation
from crm.db.models.person import Person
from crm.domain.geo.services import reference_names
from crm.lib.timezones import PARIS

HORIZON_DAYS = 90
RECENT = 5


async def _counts_by_status(session: AsyncSession, key: Any, status: Any, ids: list[Any]) -> dict[Any, dict[str, int]]:
    """{record id: {status: count}} for a handful of records (invitations of events, deliveries of campaigns)."""
    counts: dict[Any, dict[str, int]] = {}
    if ids:
        rows = await session.execute(select(key, status, func.count()).where(key.in_(ids)).group_by(key, status))
        for record_id, value, count in rows:
            counts.setdefault(record_id, {})[value.value] = count
    return counts


async def dashboard(session: AsyncSession, today: date | None = None) -> dict[str, Any]:
    today = today or datetime.now(PARIS).date()
    horizon = today + timedelta(days=HORIZON_DAYS)
    names = await reference_names(session)

    by_status = dict((await session.execute(select(Membership.status, func.count()).group_by(Membership.status))).all())
    by_region = (
        await session.execute(
            select(Organisation.region_code, func.count())
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.status == MembershipStatus.ACTIVE)
            .group_by(Organisation.region_code)
            .order_by(func.count().desc())
        )
    ).all()
    unpaid_count, unpaid_amount = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Dues.amount), 0)).where(
                Dues.year == today.year, Dues.status == DuesStatus.INVOICED
            )
        )
    ).one()

    conventions = (
        await session.execute(
            select(Convention, Organisation.name)
            .join(Organisation, Organisation.id == Convention.organisation_id)
            .where(
                Convention.status.in_([ConventionStatus.SIGNED, ConventionStatus.ACTIVE]),
                Convention.ends_on.between(today, horizon),
            )
            .order_by(Convention.ends_on)
        )
    ).all()
    mandates = (
        await session.execute(
            select(Mandate, Person.first_name, Person.last_name, Organisation.name)
            .join(Person, Person.id == Mandate.person_id)
            .join(Organisation, Organisation.id == Mandate.organisation_id)
            .where(Mandate.term_end.between(today, horizon))
            .order_by(Mandate.term_end)
        )
    ).all()

    now = datetime.now(UTC)
    events = (
        (
            await session.execute(
                select(Event)
                .where(Event.ends_at >= now, Event.status == EventStatus.SCHEDULED)
                .order_by(Event.starts_at)
                .limit(RECENT)
            )
        )
        .scalars()
        .all()
    )
    answers = await _counts_by_status(session, Invitation.event_id, Invitation.status, [e.id for e in events])

    campaigns = (
        (await session.execute(select(Campaign).order_by(Campaign.created_at.desc()).limit(RECENT))).scalars().all()
    )
    figures = await _counts_by_status(session, Delivery.campaign_id, Delivery.status, [c.id for c in campaigns])

    imports = (
        (
            await session.execute(
                select(ImportBatch)
                .where(ImportBatch.status.in_([ImportStatus.CHECKING, ImportStatus.APPLYING]))
                .order_by(ImportBatch.created_at)
            )
        )
        .scalars()
        .all()
    )

    return {
        "today": today,
        "members_by_status": {status.value: by_status.get(status, 0) for status in MembershipStatus},
        "members_by_region": [
            {"region_code": code, "region_name": names.regions.get(code or "", code or "—"), "count": count}
            for code, count in by_region
        ],
        "dues_unpaid": {"year": today.year, "count": unpaid_count, "amount": Decimal(unpaid_amount)},
        "conventions_ending": [
            {
                "id": c.id,
                "title": c.title,
                "partner_name": partner,
                "ends_on": c.ends_on,
                "renewal": c.renewal.value,
                "notice_deadline": c.ends_on - timedelta(days=c.notice_period_days) if c.ends_on else None,
            }
            for c, partner in conventions
        ],
        "mandates_ending": [
            {
                "id": m.id,
                "person_id": m.person_id,
                "person_name": f"{first} {last}",
                "organisation_name": org,
                "role": m.role.value,
                "term_end": m.term_end,
            }
            for m, first, last, org in mandates
        ],
        "next_events": [
            {
                "id": e.id,
                "title": e.title,
                "kind": e.kind.value,
                "starts_at": e.starts_at,
                "capacity": e.capacity,
                "answers": answers.get(e.id, {}),
            }
            for e in events
        ],
        "recent_campaigns": [
            {
                "id": c.id,
                "name": c.name,
                "kind": c.kind.value,
                "status": c.status.value,
                "started_at": c.started_at,
                "audience_count": c.audience_count,
                "deliveries": figures.get(c.id, {}),
            }
            for c in campaigns
        ],
        "imports_running": [
            {
                "id": i.id,
                "filename": i.filename,
                "kind": i.kind,
                "status": i.status.value,
                "total": i.total,
                "processed": i.processed,
            }
            for i in imports
        ],
    }
