"""Membership (adhésion) with its status history, the fee schedule (barème) and the yearly dues
(cotisations) computed from it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import and_, exists, func, or_, select

from crm.db.lookups import organisation_names
from crm.db.models.membership import Dues, DuesStatus, FeeBand, Membership, MembershipStatus, MembershipStatusChange
from crm.db.models.organisation import Organisation
from crm.domain.memberships.schemas import (
    DuesCreate,
    DuesGenerated,
    DuesRead,
    DuesUpdate,
    FeeBandCreate,
    FeeBandUpdate,
    MembershipCreate,
    MembershipRead,
    MembershipUpdate,
    SkippedMember,
)
from crm.domain.organisations.services import existing_organisation
from crm.lib.listing import ListQuery
from crm.lib.problems import ProblemError, field_error, invalid
from crm.lib.schemas import Schema
from crm.lib.search import organisation_matches, text_matches
from crm.lib.services import Service

S = TypeVar("S", bound=Schema)
ENDED = frozenset({MembershipStatus.LAPSED, MembershipStatus.RESIGNED})


class MembershipService(Service[Membership]):
    @staticmethod
    def _status_dates(membership: Membership, changed_on: date) -> None:
        """Fills the dates a status implies, unless staff set them."""
        if membership.status == MembershipStatus.ACTIVE:
            membership.member_since = membership.member_since or changed_on
        elif membership.status in ENDED:
            membership.ended_on = membership.ended_on or changed_on

    async def _append_history(self, membership: Membership, changed_on: date, note: str | None) -> None:
        self.session.add(
            MembershipStatusChange(
                membership_id=membership.id, status=membership.status, changed_on=changed_on, note=note
            )
        )
        await self.session.flush()

    @staticmethod
    def _check_dates(membership: Membership) -> None:
        if membership.ended_on and membership.member_since and membership.ended_on < membership.member_since:
            raise invalid("ended_on", "cannot be before member_since")

    async def join(self, data: MembershipCreate) -> Membership:
        await existing_organisation(self.session, data.organisation_id)
        if await self.exists(Membership.organisation_id == data.organisation_id):
            raise ProblemError(
                409,
                "This organisation already has a membership; change its status instead",
                errors=[field_error("organisation_id", "already has a membership")],
            )
        changed_on = data.changed_on or date.today()
        membership = Membership(**data.model_dump(exclude={"changed_on", "note"}))
        self._status_dates(membership, changed_on)
        self._check_dates(membership)
        membership = await self.create(membership)
        await self._append_history(membership, changed_on, data.note)
        return membership

    async def change(self, membership_id: UUID, data: MembershipUpdate) -> Membership:
        membership = await self.get(membership_id)
        changes = data.model_dump(exclude_unset=True, exclude={"changed_on", "note"})
        if "status" in changes and changes["status"] is None:
            raise invalid("status", "cannot be empty")
        new_status = changes.pop("status", None)
        self.apply(membership, changes)
        status_changed = new_status is not None and new_status != membership.status
        changed_on = data.changed_on or date.today()
        if status_changed:
            membership.status = new_status
            if new_status == MembershipStatus.ACTIVE and "ended_on" not in changes:
                membership.ended_on = None  # back as a member: the earlier end no longer holds
            self._status_dates(membership, changed_on)
        self._check_dates(membership)
        membership = await self.update(membership)
        if status_changed:
            await self._append_history(membership, changed_on, data.note)
        return membership

    async def search(
        self,
        query: ListQuery,
        sortable: frozenset[str],
        *,
        status: MembershipStatus | None = None,
        organisation_id: UUID | None = None,
    ) -> tuple[Sequence[Membership], int]:
        conditions: list[Any] = []
        if status:
            conditions.append(Membership.status == status)
        if organisation_id:
            conditions.append(Membership.organisation_id == organisation_id)
        if query.q:
            conditions.append(organisation_matches(Membership.organisation_id, query.q))
        return await self.get_many_and_count(*query.filters(sortable, "-created_at"), *conditions)

    async def history(self, membership_id: UUID) -> Sequence[MembershipStatusChange]:
        await self.get(membership_id)
        return (
            await self.session.scalars(
                select(MembershipStatusChange)
                .where(MembershipStatusChange.membership_id == membership_id)
                # In the order things happened: a change recorded late (backdated) sits where it belongs.
                .order_by(
                    MembershipStatusChange.changed_on, MembershipStatusChange.created_at, MembershipStatusChange.id
                )
            )
        ).all()

    async def read(self, memberships: Sequence[Membership]) -> list[MembershipRead]:
        names = await organisation_names(self.session, {m.organisation_id for m in memberships})
        return [_with_name(MembershipRead, m, names) for m in memberships]


def _with_name(schema: type[S], record: Any, names: dict[UUID, str]) -> S:
    """The read shape of a record that shows its organisation's name."""
    values = {k: getattr(record, k) for k in schema.model_fields if k != "organisation_name"}
    return schema.model_validate({**values, "organisation_name": names[record.organisation_id]})


def covers(population: int) -> Any:
    return and_(
        FeeBand.min_population <= population, or_(FeeBand.max_population.is_(None), FeeBand.max_population > population)
    )


class FeeBandService(Service[FeeBand]):
    async def _check(self, band: FeeBand) -> None:
        """A band is ordered and overlaps no other band of its year, so a population has one fee."""
        if band.max_population is not None and band.max_population <= band.min_population:
            raise invalid("max_population", "must be above min_population (it is exclusive)")
        conditions: list[Any] = [
            FeeBand.year == band.year,
            or_(FeeBand.max_population.is_(None), FeeBand.max_population > band.min_population),
        ]
        if band.max_population is not None:
            conditions.append(FeeBand.min_population < band.max_population)
        if band.id is not None:
            conditions.append(FeeBand.id != band.id)
        other = await self.session.scalar(select(FeeBand).where(*conditions).order_by(FeeBand.min_population).limit(1))
        if other is not None:
            upper = f"below {other.max_population}" if other.max_population is not None else "and more"
            message = f"overlaps the {band.year} band {other.min_population} {upper}"
            raise ProblemError(
                409,
                f"This band {message}",
                errors=[field_error("min_population", message), field_error("max_population", message)],
            )

    async def add(self, data: FeeBandCreate) -> FeeBand:
        band = FeeBand(**data.model_dump())
        await self._check(band)
        return await self.create(band)

    async def change(self, band_id: UUID, data: FeeBandUpdate) -> FeeBand:
        band = await self.get(band_id)
        changes = data.model_dump(exclude_unset=True)
        self.apply(band, changes, required=("year", "min_population", "amount"))
        # The check must not see this band's unsaved values as another band's.
        with self.session.no_autoflush:
            await self._check(band)
        return await self.update(band)

    async def band_for(self, year: int, population: int) -> FeeBand | None:
        return await self.get_one_or_none(FeeBand.year == year, covers(population))

    async def search(
        self, query: ListQuery, sortable: frozenset[str], *, year: int | None = None
    ) -> tuple[Sequence[FeeBand], int]:
        conditions: list[Any] = [FeeBand.year == year] if year is not None else []
        if query.q:
            conditions.append(text_matches(FeeBand.label, query.q))
        return await self.get_many_and_count(*query.filters(sortable, "min_population"), *conditions)


class DuesService(Service[Dues]):
    async def _amount(self, organisation: Organisation, year: int) -> Decimal | None:
        if organisation.population is None:
            return None
        band = await FeeBandService(session=self.session).band_for(year, organisation.population)
        return band.amount if band else None

    async def invoice(self, data: DuesCreate) -> Dues:
        organisation = await existing_organisation(self.session, data.organisation_id)
        if await self.exists(Dues.organisation_id == organisation.id, Dues.year == data.year):
            raise ProblemError(
                409,
                f"{organisation.name} already has dues for {data.year}",
                errors=[field_error("year", f"dues of {data.year} already exist")],
            )
        amount = data.amount
        if amount is None:
            amount = await self._amount(organisation, data.year)
            if amount is None:
                population = organisation.population if organisation.population is not None else "unknown"
                raise invalid(
                    "year",
                    f"no fee band of {data.year} covers a population of {population}; add one or send an amount",
                )
        return await self.create(
            Dues(
                organisation_id=organisation.id,
                year=data.year,
                amount=amount,
                status=DuesStatus.INVOICED,
                invoiced_on=date.today(),
                notes=data.notes,
            )
        )

    async def generate(self, year: int) -> DuesGenerated:
        """Invoices every active member without dues for the year. Safe to run again: runs for one
        year take turns (a transaction lock), and a member invoiced already is left alone."""
        session = self.session
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("dues-generate"), year)))
        active = and_(Membership.organisation_id == Organisation.id, Membership.status == MembershipStatus.ACTIVE)
        has_dues = exists().where(Dues.organisation_id == Organisation.id, Dues.year == year)
        already = await session.scalar(
            select(func.count()).select_from(Organisation).where(exists().where(active), has_dues)
        )
        lacking = (
            await session.scalars(
                select(Organisation).where(exists().where(active), ~has_dues).order_by(Organisation.name)
            )
        ).all()
        created = 0
        skipped: list[SkippedMember] = []
        for organisation in lacking:
            amount = await self._amount(organisation, year)
            if amount is None:
                reason = (
                    "population unknown"
                    if organisation.population is None
                    else f"no fee band of {year} covers a population of {organisation.population}"
                )
                skipped.append(SkippedMember(organisation_id=organisation.id, name=organisation.name, reason=reason))
                continue
            session.add(
                Dues(
                    organisation_id=organisation.id,
                    year=year,
                    amount=amount,
                    status=DuesStatus.INVOICED,
                    invoiced_on=date.today(),
                )
            )
            created += 1
        await session.flush()
        return DuesGenerated(year=year, created=created, already_invoiced=already or 0, skipped=skipped)

    async def change(self, dues_id: UUID, data: DuesUpdate) -> Dues:
        dues = await self.get(dues_id)
        changes = data.model_dump(exclude_unset=True)
        self.apply(dues, changes, required=("status", "amount"))
        if dues.status == DuesStatus.PAID:
            dues.paid_on = dues.paid_on or date.today()
        elif changes.get("paid_on") is not None:
            raise invalid("paid_on", f"only paid dues have a payment date; these are {dues.status.value}")
        else:
            dues.paid_on = None
        return await self.update(dues)

    async def search(
        self,
        query: ListQuery,
        sortable: frozenset[str],
        *,
        year: int | None = None,
        status: DuesStatus | None = None,
        organisation_id: UUID | None = None,
    ) -> tuple[Sequence[Dues], int]:
        conditions: list[Any] = []
        if year is not None:
            conditions.append(Dues.year == year)
        if status:
            conditions.append(Dues.status == status)
        if organisation_id:
            conditions.append(Dues.organisation_id == organisation_id)
        if query.q:
            conditions.append(organisation_matches(Dues.organisation_id, query.q))
        return await self.get_many_and_count(*query.filters(sortable, "-year"), *conditions)

    async def read(self, dues: Sequence[Dues]) -> list[DuesRead]:
        names = await organisation_names(self.session, {d.organisation_id for d in dues})
        return [_with_name(DuesRead, d, names) for d in dues]
