"""The yearly label (1 to 5 "@", and the green "@"): awards, a city's history, the palmarès."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from advanced_alchemy.exceptions import NotFoundError
from sqlalchemy import select

from crm.db.audit_listener import record
from crm.db.models.label import LabelAward
from crm.db.models.organisation import Organisation
from crm.domain.labels.results import GREEN_SINCE, LABELLED_KINDS, ResultRow, palmares_csv, record_results
from crm.domain.labels.schemas import (
    LabelCreate,
    LabelRead,
    LabelResultsReport,
    LabelUpdate,
    Palmares,
    PalmaresEntry,
)
from crm.domain.organisations.services import existing_organisation
from crm.lib.listing import ListQuery
from crm.lib.problems import ProblemError, field_error, invalid
from crm.lib.search import organisation_matches
from crm.lib.services import Service

LEVELS = range(1, 6)


def _check_award(year: int, green: bool) -> None:
    # Labels are announced for the coming year at the latest; further out is a typing error.
    latest = date.today().year + 1
    if year > latest:
        raise invalid("year", f"cannot be after {latest}")
    if green and year < GREEN_SINCE:
        raise invalid("green", f'the green "@" exists only since {GREEN_SINCE}, not in {year}')


class LabelService(Service[LabelAward]):
    async def _refuse_second_label(self, organisation_id: UUID, year: int, label_id: UUID | None = None) -> None:
        conditions = [LabelAward.organisation_id == organisation_id, LabelAward.year == year]
        if label_id is not None:
            conditions.append(LabelAward.id != label_id)
        if await self.exists(*conditions):
            raise ProblemError(
                409,
                f"This organisation already has a label for {year}; change that one instead",
                errors=[field_error("year", f"already labelled in {year}")],
            )

    async def award(self, data: LabelCreate) -> LabelAward:
        organisation = await existing_organisation(self.session, data.organisation_id)
        if organisation.kind not in LABELLED_KINDS:
            raise invalid("organisation_id", f"only communes and EPCI are labelled, not a {organisation.kind.value}")
        _check_award(data.year, data.green)
        await self._refuse_second_label(data.organisation_id, data.year)
        return await self.create(LabelAward(**data.model_dump()))

    async def change(self, label_id: UUID, data: LabelUpdate) -> LabelAward:
        label = await self.get(label_id)
        changes = data.model_dump(exclude_unset=True)
        for key, value in changes.items():
            if value is None:
                raise invalid(key, "cannot be empty")
        _check_award(changes.get("year", label.year), changes.get("green", label.green))
        if "year" in changes and changes["year"] != label.year:
            await self._refuse_second_label(label.organisation_id, changes["year"], label.id)
        self.apply(label, changes)
        return await self.update(label)

    async def search(
        self,
        query: ListQuery,
        sortable: frozenset[str],
        *,
        year: int | None = None,
        level: int | None = None,
        green: bool | None = None,
        organisation_id: UUID | None = None,
    ) -> tuple[Sequence[LabelAward], int]:
        conditions: list[Any] = []
        if year is not None:
            conditions.append(LabelAward.year == year)
        if level is not None:
            conditions.append(LabelAward.level == level)
        if green is not None:
            conditions.append(LabelAward.green.is_(green))
        if organisation_id is not None:
            conditions.append(LabelAward.organisation_id == organisation_id)
        if query.q:
            conditions.append(organisation_matches(LabelAward.organisation_id, query.q))
        return await self.get_many_and_count(*query.filters(sortable, "-year"), *conditions)

    async def history(
        self, organisation_id: UUID, query: ListQuery, sortable: frozenset[str]
    ) -> tuple[Sequence[LabelAward], int]:
        """A member's labels, newest first."""
        if await self.session.get(Organisation, organisation_id) is None:
            raise NotFoundError("No such organisation")
        return await self.search(query, sortable, organisation_id=organisation_id)

    async def read(self, labels: Sequence[LabelAward]) -> list[LabelRead]:
        """Labels with their organisation's name, in one query for the page."""
        ids = {label.organisation_id for label in labels}
        organisations: dict[UUID, Any] = {}
        if ids:
            rows = await self.session.execute(
                select(Organisation.id, Organisation.name, Organisation.kind, Organisation.insee_code).where(
                    Organisation.id.in_(ids)
                )
            )
            organisations = {row.id: row for row in rows}
        return [
            LabelRead(
                id=label.id,
                organisation_id=label.organisation_id,
                organisation_name=organisations[label.organisation_id].name,
                organisation_kind=organisations[label.organisation_id].kind,
                insee_code=organisations[label.organisation_id].insee_code,
                year=label.year,
                level=label.level,
                green=label.green,
                created_at=label.created_at,
                updated_at=label.updated_at,
            )
            for label in labels
        ]

    async def record_results(self, year: int, rows: Sequence[ResultRow], *, dry_run: bool) -> LabelResultsReport:
        """A year's results in bulk, all or nothing (see `results.py`)."""
        return await record_results(self.session, year, rows, dry_run=dry_run)

    async def palmares_file(self, year: int) -> bytes:
        """The palmarès as a CSV file; an export, so in the audit log."""
        palmares = await self.palmares(year)
        record(self.session, "export", "label_award", None, year=year, rows=palmares.total)
        return palmares_csv(year, palmares.items)

    async def palmares(self, year: int) -> Palmares:
        """Everyone labelled that year, most "@" first, then by name as a reader expects it
        (accents ignored: Élancourt sits among the E)."""
        rows = (
            await self.session.execute(
                select(LabelAward, Organisation)
                .join(Organisation, Organisation.id == LabelAward.organisation_id)
                .where(LabelAward.year == year)
                .order_by(LabelAward.level.desc(), Organisation.sort_name, Organisation.name)
            )
        ).all()
        items = [
            PalmaresEntry(
                organisation_id=org.id,
                name=org.name,
                kind=org.kind,
                insee_code=org.insee_code,
                siren=org.siren,
                departement_code=org.departement_code,
                population=org.population,
                level=label.level,
                green=label.green,
            )
            for label, org in rows
        ]
        by_level = {str(level): sum(1 for i in items if i.level == level) for level in LEVELS}
        return Palmares(
            year=year, total=len(items), by_level=by_level, green=sum(1 for i in items if i.green), items=items
        )
