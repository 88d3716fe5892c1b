"""Partnership conventions: dates, renewal, notice.

With tacit renewal (reconduction tacite) a convention renews itself unless notice is given
`notice_period_days` before its end: that deadline is what staff must not miss, so the "due"
list puts it first. Explicit renewal needs a new signature and a new end date."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from crm.db.audit_listener import record as audit_record
from crm.db.lookups import organisation_names
from crm.db.models.convention import Convention, ConventionStatus, Renewal
from crm.db.models.organisation import Organisation
from crm.db.models.tag import Tagging
from crm.domain.conventions.schemas import ConventionCreate, ConventionRead, ConventionRenew, ConventionUpdate
from crm.domain.tags.services import tag_filter
from crm.lib.listing import ListQuery
from crm.lib.problems import ProblemError, field_error, invalid
from crm.lib.search import matches
from crm.lib.services import Service

CONVENTION_ENTITY = "convention"
MAX_URL_LENGTH = 1000
# Conventions that are over fall due no more.
CLOSED = (ConventionStatus.EXPIRED, ConventionStatus.TERMINATED)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def notice_deadline(convention: Convention) -> date | None:
    if convention.renewal != Renewal.TACIT or convention.ends_on is None:
        return None
    return convention.ends_on - timedelta(days=convention.notice_period_days or 0)


def _check(values: dict[str, Any]) -> None:
    starts_on, ends_on = values.get("starts_on"), values.get("ends_on")
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise invalid("ends_on", f"cannot be before starts_on ({starts_on})")
    url = values.get("document_url")
    if url is not None and len(url) > MAX_URL_LENGTH:
        raise invalid("document_url", f"must be at most {MAX_URL_LENGTH} characters")


class ConventionService(Service[Convention]):
    async def create_convention(self, data: ConventionCreate) -> ConventionRead:
        values = data.model_dump()
        values["document_url"] = str(data.document_url) if data.document_url else None
        _check(values)
        await self._mark_partner(data.organisation_id)
        convention = await self.create(Convention(**values))
        return (await self.reads([convention]))[0]

    async def update_convention(self, convention_id: UUID, data: ConventionUpdate) -> ConventionRead:
        convention = await self.get(convention_id)
        sent = data.model_dump(exclude_unset=True)
        for required in ("organisation_id", "title", "status", "renewal", "notice_period_days"):
            if required in sent and sent[required] is None:
                raise invalid(required, "cannot be empty")
        if sent.get("document_url") is not None:
            sent["document_url"] = str(data.document_url)
        _check({k: sent.get(k, getattr(convention, k)) for k in ("starts_on", "ends_on", "document_url")})
        if "organisation_id" in sent and sent["organisation_id"] != convention.organisation_id:
            await self._mark_partner(sent["organisation_id"])
        self.apply(convention, sent)
        convention = await self.update(convention)
        return (await self.reads([convention]))[0]

    async def renew(self, convention_id: UUID, data: ConventionRenew) -> ConventionRead:
        """A new end date: the one sent, or for tacit renewal the current end plus one renewal term.
        The audit log keeps the previous end (the update's old value, and a "renew" entry)."""
        session = self.session
        convention = await session.scalar(select(Convention).where(Convention.id == convention_id).with_for_update())
        if convention is None:
            raise ProblemError(404, "No such convention")
        if convention.status == ConventionStatus.TERMINATED:
            raise ProblemError(
                409, "A terminated convention cannot be renewed", errors=[field_error("status", "terminated")]
            )
        previous = convention.ends_on
        if data.ends_on is not None:
            new_end = data.ends_on
        elif convention.renewal == Renewal.TACIT:
            if previous is None:
                raise invalid("ends_on", "the convention has no end date to extend; send the new end")
            if not convention.renewal_term_months:
                raise invalid("renewal_term_months", "set the renewal term first, or send the new end")
            new_end = add_months(previous, convention.renewal_term_months)
        else:
            raise invalid("ends_on", "an explicit renewal needs the new end date")
        if previous is not None and new_end <= previous:
            raise invalid("ends_on", f"must be after the current end ({previous})")
        if convention.starts_on is not None and new_end < convention.starts_on:
            raise invalid("ends_on", f"cannot be before starts_on ({convention.starts_on})")
        convention.ends_on = new_end
        if data.signed_on is not None:
            convention.signed_on = data.signed_on
        if convention.status == ConventionStatus.EXPIRED:
            convention.status = ConventionStatus.ACTIVE
        audit_record(session, "renew", CONVENTION_ENTITY, convention.id, previous_ends_on=previous, ends_on=new_end)
        convention = await self.update(convention)
        return (await self.reads([convention]))[0]

    async def read(self, convention_id: UUID) -> ConventionRead:
        return (await self.reads([await self.get(convention_id)]))[0]

    async def list_conventions(
        self,
        query: ListQuery,
        sortable: frozenset[str],
        *,
        organisation_id: UUID | None,
        status: ConventionStatus | None,
        renewal: Renewal | None,
        tag: str | None,
    ) -> tuple[list[ConventionRead], int]:
        conditions = self._conditions(query, organisation_id, status, renewal, tag)
        items, total = await self.get_many_and_count(*query.filters(sortable, "ends_on"), *conditions)
        return await self.reads(items), total

    async def list_due(
        self,
        query: ListQuery,
        days: int,
        *,
        organisation_id: UUID | None,
        status: ConventionStatus | None,
        renewal: Renewal | None,
        tag: str | None,
        today: date,
    ) -> tuple[list[ConventionRead], int]:
        """Conventions whose notice deadline or end falls between today and today + `days`, soonest first.
        When both fall in the window the notice deadline, which comes first, is the one shown."""
        until = today + timedelta(days=days)
        deadline = Convention.ends_on - Convention.notice_period_days
        notice_due = and_(Convention.renewal == Renewal.TACIT, deadline.between(today, until))
        end_due = Convention.ends_on.between(today, until)
        due_on = case((notice_due, deadline), else_=Convention.ends_on)
        due = case((notice_due, "notice"), else_="end")
        conditions = [
            or_(notice_due, end_due),
            Convention.status.not_in(CLOSED),
            *self._conditions(query, organisation_id, status, renewal, tag),
        ]
        session = self.session
        total = int(await session.scalar(select(func.count()).select_from(Convention).where(*conditions)) or 0)
        rows = (
            await session.execute(
                select(Convention, due, due_on)
                .where(*conditions)
                .order_by(due_on, Convention.title, Convention.id)
                .limit(query.limit)
                .offset(query.offset)
            )
        ).all()
        reads = await self.reads([row[0] for row in rows])
        return [
            read.model_copy(update={"due": kind, "due_on": on}) for read, (_, kind, on) in zip(reads, rows, strict=True)
        ], total

    async def delete_convention(self, convention_id: UUID) -> None:
        convention = await self.get(convention_id)
        session = self.session
        for tagging in (
            await session.scalars(
                select(Tagging).where(Tagging.entity_type == CONVENTION_ENTITY, Tagging.entity_id == convention.id)
            )
        ).all():
            await session.delete(tagging)
        await session.flush()
        await self.delete(convention.id)

    async def reads(self, conventions: Sequence[Convention]) -> list[ConventionRead]:
        names = await organisation_names(self.session, (c.organisation_id for c in conventions))
        return [
            ConventionRead(
                id=c.id,
                organisation_id=c.organisation_id,
                organisation_name=names.get(c.organisation_id, ""),
                title=c.title,
                status=c.status,
                signed_on=c.signed_on,
                starts_on=c.starts_on,
                ends_on=c.ends_on,
                renewal=c.renewal,
                notice_period_days=c.notice_period_days,
                renewal_term_months=c.renewal_term_months,
                notice_deadline=notice_deadline(c),
                document_url=c.document_url,
                commitments=c.commitments,
                created_at=c.created_at,
                updated_at=c.updated_at,
            )
            for c in conventions
        ]

    @staticmethod
    def _conditions(
        query: ListQuery,
        organisation_id: UUID | None,
        status: ConventionStatus | None,
        renewal: Renewal | None,
        tag: str | None,
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if query.q:
            # Each word, in the title or in the partner's name (or its codes), in any order.
            partner = (
                select(Organisation.search_text).where(Organisation.id == Convention.organisation_id).scalar_subquery()
            )
            readable = func.concat(func.crm_search_text(Convention.title), " ", func.coalesce(partner, ""))
            conditions.append(matches(readable, query.q))
        if organisation_id:
            conditions.append(Convention.organisation_id == organisation_id)
        if status:
            conditions.append(Convention.status == status)
        if renewal:
            conditions.append(Convention.renewal == renewal)
        if tag and tag.strip():
            conditions.append(tag_filter(CONVENTION_ENTITY, Convention.id, tag))
        return conditions

    async def _mark_partner(self, organisation_id: UUID) -> None:
        """A convention makes its organisation a partner."""
        organisation = await self.session.get(Organisation, organisation_id)
        if organisation is None:
            raise invalid("organisation_id", "no organisation has this id")
        if not organisation.is_partner:
            organisation.is_partner = True
