"""The board (conseil d'administration): mandates held by people on behalf of organisations.

A mandate's term includes both its first and its last day, so the board on the day a term ends
still shows its holder. Some roles have one holder at a time: that is checked under a lock per
role, so two requests cannot both seat a president."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, case, or_, select, text

from crm.db.lookups import organisation_names, person_names
from crm.db.models.board import BoardRole, Mandate
from crm.db.models.organisation import Organisation
from crm.db.models.person import Person
from crm.domain.board.schemas import BoardRead, BoardSeat, MandateCreate, MandateRead, MandateUpdate
from crm.lib.listing import ListQuery
from crm.lib.problems import ProblemError, field_error, invalid
from crm.lib.search import organisation_matches, person_matches
from crm.lib.services import Service

# One holder at a time for these roles (président·e, trésorier·e, secrétaire).
SINGLE_HOLDER_ROLES = frozenset({BoardRole.PRESIDENT, BoardRole.TREASURER, BoardRole.SECRETARY})
# The order in which a board is presented.
ROLE_ORDER = [BoardRole.PRESIDENT, BoardRole.VICE_PRESIDENT, BoardRole.TREASURER, BoardRole.SECRETARY, BoardRole.MEMBER]


def _role_rank() -> Any:
    return case({role: rank for rank, role in enumerate(ROLE_ORDER)}, value=Mandate.role)


class MandateService(Service[Mandate]):
    async def create_mandate(self, data: MandateCreate) -> MandateRead:
        await self._check_parties(data.person_id, data.organisation_id)
        self._check_term(data.term_start, data.term_end)
        await self._check_single_holder(data.role, data.term_start, data.term_end, exclude=None)
        await self._check_duplicate(
            data.person_id, data.organisation_id, data.role, data.term_start, data.term_end, exclude=None
        )
        mandate = await self.create(Mandate(**data.model_dump()))
        return (await self.reads([mandate]))[0]

    async def update_mandate(self, mandate_id: UUID, data: MandateUpdate) -> MandateRead:
        mandate = await self.get(mandate_id)
        sent = data.model_dump(exclude_unset=True)
        for required in ("person_id", "organisation_id", "role", "term_start"):
            if required in sent and sent[required] is None:
                raise invalid(required, "cannot be empty", "required")
        merged = {
            k: sent.get(k, getattr(mandate, k))
            for k in ("person_id", "organisation_id", "role", "term_start", "term_end")
        }
        await self._check_parties(
            merged["person_id"] if "person_id" in sent else None,
            merged["organisation_id"] if "organisation_id" in sent else None,
        )
        self._check_term(merged["term_start"], merged["term_end"])
        await self._check_single_holder(merged["role"], merged["term_start"], merged["term_end"], exclude=mandate_id)
        await self._check_duplicate(
            merged["person_id"],
            merged["organisation_id"],
            merged["role"],
            merged["term_start"],
            merged["term_end"],
            exclude=mandate_id,
        )
        self.apply(mandate, sent)
        mandate = await self.update(mandate)
        return (await self.reads([mandate]))[0]

    async def read(self, mandate_id: UUID) -> MandateRead:
        return (await self.reads([await self.get(mandate_id)]))[0]

    async def list_mandates(
        self,
        query: ListQuery,
        sortable: frozenset[str],
        *,
        person_id: UUID | None,
        organisation_id: UUID | None,
        role: BoardRole | None,
        current: bool | None,
        ending_within_days: int | None,
        today: date,
    ) -> tuple[list[MandateRead], int]:
        conditions: list[ColumnElement[bool]] = []
        if person_id:
            conditions.append(Mandate.person_id == person_id)
        if organisation_id:
            conditions.append(Mandate.organisation_id == organisation_id)
        if role:
            conditions.append(Mandate.role == role)
        if current is not None:
            running = Mandate.running_on(today)
            conditions.append(running if current else ~running)
        if ending_within_days is not None:
            conditions.append(Mandate.term_end.between(today, today + timedelta(days=ending_within_days)))
        if query.q:
            conditions.append(
                or_(person_matches(Mandate.person_id, query.q), organisation_matches(Mandate.organisation_id, query.q))
            )
        # Mandates ending soon read best soonest first.
        default_sort = "term_end" if ending_within_days is not None else "-term_start"
        items, total = await self.get_many_and_count(*query.filters(sortable, default_sort), *conditions)
        return await self.reads(items), total

    async def board(self, on: date) -> BoardRead:
        rows = await self.session.execute(
            select(Mandate, Person.first_name, Person.last_name, Organisation.name)
            .join(Person, Person.id == Mandate.person_id)
            .join(Organisation, Organisation.id == Mandate.organisation_id)
            .where(Mandate.running_on(on))
            .order_by(_role_rank(), Person.last_name, Person.first_name, Mandate.term_start)
        )
        seats = [
            BoardSeat(
                mandate_id=m.id,
                person_id=m.person_id,
                first_name=first,
                last_name=last,
                person_name=f"{first} {last}",
                organisation_id=m.organisation_id,
                organisation_name=org_name,
                role=m.role,
                term_start=m.term_start,
                term_end=m.term_end,
            )
            for m, first, last, org_name in rows
        ]
        return BoardRead(on=on, seats=seats)

    async def reads(self, mandates: Sequence[Mandate], today: date | None = None) -> list[MandateRead]:
        today = today or date.today()
        session = self.session
        people = await person_names(session, (m.person_id for m in mandates))
        orgs = await organisation_names(session, (m.organisation_id for m in mandates))
        return [
            MandateRead(
                id=m.id,
                person_id=m.person_id,
                person_name=people.get(m.person_id, ""),
                organisation_id=m.organisation_id,
                organisation_name=orgs.get(m.organisation_id, ""),
                role=m.role,
                term_start=m.term_start,
                term_end=m.term_end,
                is_current=m.running_on(today),
                created_at=m.created_at,
                updated_at=m.updated_at,
            )
            for m in mandates
        ]

    async def _check_parties(self, person_id: UUID | None, organisation_id: UUID | None) -> None:
        session = self.session
        if person_id is not None and await session.get(Person, person_id) is None:
            raise invalid("person_id", "no person has this id", "unknown_id")
        if organisation_id is not None and await session.get(Organisation, organisation_id) is None:
            raise invalid("organisation_id", "no organisation has this id", "unknown_id")

    @staticmethod
    def _check_term(term_start: date, term_end: date | None) -> None:
        if term_end is not None and term_end < term_start:
            raise invalid("term_end", "the term cannot end before it starts", "ends_before_start")

    async def _check_duplicate(
        self,
        person_id: UUID,
        organisation_id: UUID,
        role: BoardRole,
        term_start: date,
        term_end: date | None,
        *,
        exclude: UUID | None,
    ) -> None:
        """A person holds a role for an organisation once at a time: an overlapping second mandate
        is a duplicate (typed twice, or a renewal that should extend the first one)."""
        session = self.session
        # Taken after the role lock (same order everywhere): two identical requests run one after the other.
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"crm:mandate:person:{person_id}"}
        )
        overlap = [
            Mandate.person_id == person_id,
            Mandate.organisation_id == organisation_id,
            Mandate.role == role,
            or_(Mandate.term_end.is_(None), Mandate.term_end >= term_start),
        ]
        if term_end is not None:
            overlap.append(Mandate.term_start <= term_end)
        if exclude is not None:
            overlap.append(Mandate.id != exclude)
        other = await session.scalar(select(Mandate).where(*overlap).order_by(Mandate.term_start).limit(1))
        if other is not None:
            until = f" to {other.term_end}" if other.term_end else " with no end date"
            message = f"overlaps the same mandate from {other.term_start}{until}"
            raise ProblemError(
                409,
                f"This person already holds the {role.value} role for this organisation from "
                f"{other.term_start}{until}; change that mandate instead",
                errors=[
                    field_error(
                        "term_start",
                        message,
                        "mandate_overlaps",
                        start=other.term_start.isoformat(),
                        end=other.term_end.isoformat() if other.term_end else None,
                    )
                ],
                code="conflict",
                conflicting_mandate_id=str(other.id),
            )

    async def _check_single_holder(
        self, role: BoardRole, term_start: date, term_end: date | None, *, exclude: UUID | None
    ) -> None:
        if role not in SINGLE_HOLDER_ROLES:
            return
        session = self.session
        # Held until the transaction ends: a concurrent request for the same role waits, then sees this one.
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"crm:mandate:{role}"})
        overlap = [
            Mandate.role == role,
            or_(Mandate.term_end.is_(None), Mandate.term_end >= term_start),
        ]
        if term_end is not None:
            overlap.append(Mandate.term_start <= term_end)
        if exclude is not None:
            overlap.append(Mandate.id != exclude)
        row = (
            await session.execute(
                select(Mandate.id, Mandate.term_start, Mandate.term_end, Person.first_name, Person.last_name)
                .join(Person, Person.id == Mandate.person_id)
                .where(*overlap)
                .order_by(Mandate.term_start)
                .limit(1)
            )
        ).first()
        if row is not None:
            until = f" to {row.term_end}" if row.term_end else " with no end date"
            raise ProblemError(
                409,
                f"{row.first_name} {row.last_name} already holds the {role.value} role from {row.term_start}{until}",
                errors=[
                    field_error(
                        "role",
                        f"only one {role.value} at a time; the terms overlap",
                        "one_holder_at_a_time",
                        role=role.value,
                        holder=f"{row.first_name} {row.last_name}",
                        start=row.term_start.isoformat(),
                    )
                ],
                code="conflict",
                conflicting_mandate_id=str(row.id),
            )
