"""A member's whole story in one list, newest first: membership and dues, labels, positions that
started and ended there, board mandates, conventions, events its people attended, campaigns they
received, and the audit log of the organisation and of those records.

One UNION ALL query gives a page (and a second one its total); each branch says when, what kind of
fact, which record, and the few fields that describe it (JSON). Names of people come in one more
query for the page. A day without a time (a date) is placed at midnight UTC."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from advanced_alchemy.exceptions import NotFoundError
from sqlalchemy import TIMESTAMP, String, Uuid, and_, cast, func, literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.lookups import person_names
from crm.db.models.audit import AuditEntry
from crm.db.models.board import Mandate
from crm.db.models.campaign import Campaign, Delivery, DeliveryStatus
from crm.db.models.convention import Convention
from crm.db.models.event import Event, Invitation, InvitationStatus
from crm.db.models.label import LabelAward
from crm.db.models.membership import Dues, Membership, MembershipStatusChange
from crm.db.models.organisation import Organisation
from crm.db.models.person import Position
from crm.domain.organisations.schemas import TimelineEntry

KINDS = (
    "membership_started",
    "membership_ended",
    "membership_status",
    "dues_invoiced",
    "dues_paid",
    "label",
    "position_started",
    "position_ended",
    "mandate_started",
    "mandate_ended",
    "convention_signed",
    "convention_ended",
    "event_attended",
    "campaign_received",
    "audit",
)


def _day(column: Any) -> Any:
    """A date as a moment: midnight UTC that day."""
    return func.timezone("UTC", cast(column, TIMESTAMP))


def _branch(at: Any, kind: str, record_id: Any, person_id: Any, data: Any, *where: Any) -> Any:
    return select(
        at.label("at"),
        literal(kind, String).label("kind"),
        record_id.label("record_id"),
        (person_id if person_id is not None else cast(null(), Uuid)).label("person_id"),
        data.label("data"),
    ).where(*where)


def _branches(org_id: UUID, today: date) -> list[Any]:
    people = select(Position.person_id).where(Position.organisation_id == org_id)
    obj = func.jsonb_build_object
    membership = select(Membership.id).where(Membership.organisation_id == org_id)
    records = union_all(
        select(literal(org_id, Uuid).label("id")),
        membership,
        select(Dues.id).where(Dues.organisation_id == org_id),
        select(LabelAward.id).where(LabelAward.organisation_id == org_id),
        select(Position.id).where(Position.organisation_id == org_id),
        select(Mandate.id).where(Mandate.organisation_id == org_id),
        select(Convention.id).where(Convention.organisation_id == org_id),
    )
    return [
        _branch(
            _day(Membership.member_since),
            "membership_started",
            Membership.id,
            None,
            obj("status", Membership.status),
            Membership.organisation_id == org_id,
            Membership.member_since.is_not(None),
        ),
        _branch(
            _day(Membership.ended_on),
            "membership_ended",
            Membership.id,
            None,
            obj("status", Membership.status),
            Membership.organisation_id == org_id,
            Membership.ended_on.is_not(None),
        ),
        _branch(
            _day(MembershipStatusChange.changed_on),
            "membership_status",
            MembershipStatusChange.id,
            None,
            obj("status", MembershipStatusChange.status, "note", MembershipStatusChange.note),
            MembershipStatusChange.membership_id.in_(membership),
        ),
        _branch(
            _day(Dues.invoiced_on),
            "dues_invoiced",
            Dues.id,
            None,
            obj("year", Dues.year, "amount", Dues.amount, "status", Dues.status),
            Dues.organisation_id == org_id,
            Dues.invoiced_on.is_not(None),
        ),
        _branch(
            _day(Dues.paid_on),
            "dues_paid",
            Dues.id,
            None,
            obj("year", Dues.year, "amount", Dues.amount, "status", Dues.status),
            Dues.organisation_id == org_id,
            Dues.paid_on.is_not(None),
        ),
        # A label is for a year: it sits on the first day of that year.
        _branch(
            _day(func.make_date(LabelAward.year, 1, 1)),
            "label",
            LabelAward.id,
            None,
            obj("year", LabelAward.year, "level", LabelAward.level, "green", LabelAward.green),
            LabelAward.organisation_id == org_id,
        ),
        _branch(
            _day(Position.started_on),
            "position_started",
            Position.id,
            Position.person_id,
            obj("title", Position.title, "position_kind", Position.kind),
            Position.organisation_id == org_id,
            Position.started_on.is_not(None),
        ),
        _branch(
            _day(Position.ended_on),
            "position_ended",
            Position.id,
            Position.person_id,
            obj("title", Position.title, "position_kind", Position.kind),
            Position.organisation_id == org_id,
            Position.ended_on.is_not(None),
            Position.ended_on <= today,
        ),
        _branch(
            _day(Mandate.term_start),
            "mandate_started",
            Mandate.id,
            Mandate.person_id,
            obj("role", Mandate.role),
            Mandate.organisation_id == org_id,
            Mandate.term_start <= today,
        ),
        _branch(
            _day(Mandate.term_end),
            "mandate_ended",
            Mandate.id,
            Mandate.person_id,
            obj("role", Mandate.role),
            Mandate.organisation_id == org_id,
            Mandate.term_end.is_not(None),
            Mandate.term_end < today,
        ),
        _branch(
            _day(func.coalesce(Convention.signed_on, Convention.starts_on)),
            "convention_signed",
            Convention.id,
            None,
            obj("title", Convention.title, "status", Convention.status),
            Convention.organisation_id == org_id,
            or_(Convention.signed_on.is_not(None), Convention.starts_on.is_not(None)),
        ),
        _branch(
            _day(Convention.ends_on),
            "convention_ended",
            Convention.id,
            None,
            obj("title", Convention.title, "status", Convention.status),
            Convention.organisation_id == org_id,
            Convention.ends_on.is_not(None),
            Convention.ends_on < today,
        ),
        # Attended: checked in, or said yes to an event that has taken place.
        _branch(
            Event.starts_at,
            "event_attended",
            Event.id,
            Invitation.person_id,
            obj("title", Event.title, "checked_in", Invitation.checked_in_at.is_not(None)),
            Invitation.event_id == Event.id,
            Invitation.person_id.in_(people),
            or_(
                Invitation.checked_in_at.is_not(None),
                and_(Invitation.status == InvitationStatus.YES, Event.ends_at < func.now()),
            ),
        ),
        # One line per campaign: when the first of its people got it, and how many did.
        select(
            func.min(Delivery.sent_at).label("at"),
            literal("campaign_received", String).label("kind"),
            Campaign.id.label("record_id"),
            cast(null(), Uuid).label("person_id"),
            obj("name", Campaign.name, "subject", Campaign.subject, "recipients", func.count()).label("data"),
        )
        .where(
            Delivery.campaign_id == Campaign.id,
            Delivery.status == DeliveryStatus.SENT,
            Delivery.sent_at.is_not(None),
            Delivery.person_id.in_(people),
        )
        .group_by(Campaign.id, Campaign.name, Campaign.subject),
        _branch(
            AuditEntry.occurred_at,
            "audit",
            AuditEntry.id,
            None,
            obj(
                "action",
                AuditEntry.action,
                "entity_type",
                AuditEntry.entity_type,
                "entity_id",
                AuditEntry.entity_id,
                "actor_type",
                AuditEntry.actor_type,
                "actor_id",
                AuditEntry.actor_id,
                "changes",
                AuditEntry.changes,
            ),
            AuditEntry.entity_id.in_(select(records.subquery().c.id)),
        ),
    ]


async def organisation_timeline(
    session: AsyncSession, org_id: UUID, limit: int, offset: int, today: date | None = None
) -> tuple[list[TimelineEntry], int]:
    if await session.get(Organisation, org_id) is None:
        raise NotFoundError("No such organisation")
    story = union_all(*_branches(org_id, today or date.today())).subquery("story")
    rows = (
        await session.execute(
            select(story).order_by(story.c.at.desc(), story.c.kind, story.c.record_id).limit(limit).offset(offset)
        )
    ).all()
    total = await session.scalar(select(func.count()).select_from(story)) or 0
    names = await person_names(session, {row.person_id for row in rows if row.person_id is not None})
    entries = [
        TimelineEntry(
            at=row.at,
            kind=row.kind,
            record_id=row.record_id,
            person_id=row.person_id,
            person_name=names.get(row.person_id) if row.person_id else None,
            data=row.data,
        )
        for row in rows
    ]
    return entries, total
