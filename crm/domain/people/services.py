"""People (contacts) and their positions.

When a position is current is one rule, `Position.held_on` (crm/db/models/person.py): from
`started_on` (or always, when unknown) until `ended_on`, over on the day it ended, so a job change on
a given day ends the old positions and starts the new one on that same day without overlap."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Literal
from uuid import UUID

import msgspec
from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    Text,
    Uuid,
    any_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    literal_column,
    nulls_last,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from crm.db.lookups import organisation_names, person_names
from crm.db.models.board import Mandate
from crm.db.models.organisation import Organisation
from crm.db.models.person import Person, Position, PositionKind
from crm.db.models.tag import Tag, Tagging
from crm.domain.geo.codes import clean_region_code
from crm.domain.people.schemas import (
    JobChange,
    JobChangeRead,
    PersonCreate,
    PersonRead,
    PersonUpdate,
    PositionCreate,
    PositionRead,
    PositionUpdate,
)
from crm.domain.tags.services import tag_filter
from crm.lib.listing import ListQuery, kept, page_params, page_statement
from crm.lib.problems import ProblemError, field_error, invalid
from crm.lib.schemas import normalise_email
from crm.lib.search import Search, best_first, matches, organisation_matches, person_matches, text_matches
from crm.lib.services import Service, read_rows, reading_only
from crm.lib.words import words

PERSON_ENTITY = "person"


def _check_dates(started_on: date | None, ended_on: date | None) -> None:
    if started_on is not None and ended_on is not None and ended_on < started_on:
        raise invalid("ended_on", f"cannot be before started_on ({started_on})", "ends_before_start")


# Functions one person at a time holds in an organisation of these kinds: one maire per commune,
# one président·e per EPCI, département or région.
SINGLE_SEATS: dict[str, frozenset[str]] = {
    "maire": frozenset({"commune"}),
    "president": frozenset({"epci", "departement", "region"}),
}
_SEAT_WORDS = {"maire": "maire", "mairesse": "maire", "president": "president", "presidente": "president"}
_SEAT_FILLERS = frozenset({"le", "la", "madame", "monsieur", "m", "mme"})
_SEAT_FOLLOWERS = frozenset({"de", "d", "du", "des", "of"})


def single_seat(title: str, organisation_kind: str) -> str | None:
    """The seat a title names when only one person holds it at such an organisation ("Maire",
    "Madame la Maire", "Présidente du Grand Annecy"), else None ("Maire adjoint", "Vice-président")."""
    tokens = [w for w in words(title) if w not in _SEAT_FILLERS]
    if not tokens:
        return None
    seat = _SEAT_WORDS.get(tokens[0])
    if seat is None or (len(tokens) > 1 and tokens[1] not in _SEAT_FOLLOWERS):
        return None
    return seat if organisation_kind in SINGLE_SEATS[seat] else None


def _seat_taken(holder: Position, holder_name: str, organisation: Organisation) -> ProblemError:
    since = f" since {holder.started_on}" if holder.started_on else ""
    message = (
        f"{holder_name} is {holder.title} of {organisation.name}{since}: end that position first "
        f"(set its ended_on), then add the new one"
    )
    error = field_error(
        "title", message, "seat_taken", holder=holder_name, title=holder.title, organisation=organisation.name
    )
    return ProblemError(409, message, errors=[error], current_holder_position_id=str(holder.id), code="conflict")


def _email_taken(email: str) -> ProblemError:
    return ProblemError(
        409,
        f"Another person already has the e-mail address {email}",
        errors=[field_error("email", "already used", "already_used")],
        code="conflict",
    )


# What a person's read shape shows of the person row itself.
_READ_COLUMNS = (
    Person.id,
    Person.first_name,
    Person.last_name,
    Person.email,
    Person.phone,
    Person.language,
    Person.notes,
    Person.created_at,
    Person.updated_at,
)


def _current_positions_and_tags(person_id: Any, today: date | ColumnElement[date]) -> tuple[Any, Any]:
    """Two columns for a select of people (`person_id`, the id of each): their current positions,
    most recently started first, as JSON text, and their tags by name; read with the people in
    the same query."""
    fields: dict[str, Any] = {
        "id": Position.id,
        "title": Position.title,
        "kind": Position.kind,
        "organisation_id": Position.organisation_id,
        "organisation_name": Organisation.name,
        "started_on": Position.started_on,
    }
    pairs: list[Any] = []
    for name, column in fields.items():
        pairs += [literal_column(f"'{name}'"), column]
    position = func.json_build_object(*pairs)
    positions = (
        select(
            cast(
                func.coalesce(
                    func.json_agg(aggregate_order_by(position, nulls_last(Position.started_on.desc()), Position.title)),
                    literal_column("'[]'::json"),
                ),
                Text,
            )
        )
        .select_from(Position)
        .join(Organisation, Organisation.id == Position.organisation_id)
        .where(Position.person_id == person_id, Position.held_on(today))
        .scalar_subquery()
        .label("positions")
    )
    tags = (
        select(
            func.coalesce(
                func.array_agg(aggregate_order_by(Tag.name, func.lower(Tag.name))),
                literal_column("'{}'::text[]"),
            )
        )
        .select_from(Tagging)
        .join(Tag, Tag.id == Tagging.tag_id)
        .where(Tagging.entity_type == PERSON_ENTITY, Tagging.entity_id == person_id)
        .scalar_subquery()
        .label("tags")
    )
    return positions, tags


def _page_statement(conditions: Sequence[ColumnElement[bool]], order: Sequence[tuple[Any, bool]]) -> Select[Any]:
    """A page of people in one statement (see `page_statement`) with their current positions and
    tags on the day given at each run (`today`)."""
    return page_statement(
        _READ_COLUMNS,
        conditions,
        order,
        lambda found: select(found, *_current_positions_and_tags(found.c.id, bindparam("today", type_=Date))),
    )


def _shape(values: Sequence[Any], positions: str, tags: list[str]) -> dict[str, Any]:
    """The read shape of a person (`PersonRead`, field for field and in its order) from the values
    of `_READ_COLUMNS` (a row's first columns, read by position: by name it cost a page a tenth of
    its time) and the two columns of `_current_positions_and_tags`, as plain values that msgspec
    encodes (the positions' JSON is PostgreSQL's, keys as in `CurrentPosition`)."""
    id_, first_name, last_name, email, phone, language, notes, created_at, updated_at = values[: len(_READ_COLUMNS)]
    return {
        "id": id_,
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "phone": phone,
        "language": language,
        "notes": notes,
        "positions": _decode_json(positions),
        "tags": tags,
        "created_at": created_at,
        "updated_at": updated_at,
    }


_decode_json = msgspec.json.Decoder().decode


class PersonService(Service[Person]):
    async def find_by_email(self, email: str) -> Person | None:
        try:
            normalised = normalise_email(email)
        except ValueError:
            return None
        return await self.get_one_or_none(Person.email == normalised)

    async def create_person(self, data: PersonCreate) -> Person:
        if data.email and await self.find_by_email(data.email) is not None:
            raise _email_taken(data.email)
        return await self.create(Person(**data.model_dump()))

    async def update_person(self, person_id: UUID, data: PersonUpdate) -> Person:
        person = await self.get(person_id)
        sent = data.model_dump(exclude_unset=True)
        for required in ("first_name", "last_name", "language"):
            if required in sent and sent[required] is None:
                raise invalid(required, "cannot be empty", "required")
        email = sent.get("email")
        if email and email != person.email:
            other = await self.find_by_email(email)
            if other is not None and other.id != person.id:
                raise _email_taken(email)
        self.apply(person, sent)
        return await self.update(person)

    async def read(self, person_id: UUID) -> PersonRead:
        return (await self.reads([await self.get(person_id)]))[0]

    async def list_people(
        self,
        query: ListQuery,
        sortable: frozenset[str],
        *,
        organisation_id: UUID | None = None,
        title: str | None = None,
        kind: PositionKind | None = None,
        region_code: str | None = None,
        board_member: bool | None = None,
        tag: str | None = None,
        today: date | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        today = today or date.today()
        await reading_only(self.session)
        conditions: list[ColumnElement[bool]] = []
        if query.q and query.sort:
            conditions.append(matches(Person.search_text, query.q))
        # The position filters describe one current position: "maire" at Lyon is one job, not two.
        held: list[ColumnElement[bool]] = []
        if organisation_id:
            held.append(Position.organisation_id == organisation_id)
        if title and title.strip():
            held.append(func.crm_search_text(Position.title).contains(func.crm_search_text(title.strip())))
        if kind:
            held.append(Position.kind == kind)
        if region_code:
            code = clean_region_code(region_code)
            held.append(
                exists(
                    select(Organisation.id).where(
                        Organisation.id == Position.organisation_id, Organisation.region_code == code
                    )
                )
            )
        if held:
            conditions.append(
                exists(select(Position.id).where(Position.person_id == Person.id, Position.held_on(today), *held))
            )
        if board_member is not None:
            on_board = exists(select(Mandate.id).where(Mandate.person_id == Person.id, Mandate.running_on(today)))
            conditions.append(on_board if board_member else ~on_board)
        if tag and tag.strip():
            conditions.append(tag_filter(PERSON_ENTITY, Person.id, tag))
        if query.q and not query.sort:
            # Best match first (as for organisations); names settle ties so that pages do not shift.
            return await self._searched(query, today, conditions)
        field, descending = query.order(sortable, "last_name")

        def build() -> Select[Any]:
            names = {
                "last_name": [Person.last_name, Person.first_name],
                "first_name": [Person.first_name, Person.last_name],
            }
            if field in names:
                # As a reader expects, whatever the collation: Étienne among the E, not after Z.
                # The raw names and the id settle ties so that pages do not shift.
                columns: list[Any] = [func.crm_search_text(c) for c in names[field]] + [*names[field], Person.id]
            else:
                columns = [getattr(Person, field), Person.id]
            return _page_statement(conditions, [(c, descending) for c in columns])

        statement = kept(None if conditions else ("people", field, descending), build)
        items, total = await self._page(statement, query, today)
        if not items and query.offset:
            total = await self.count(*conditions)
        return items, total

    async def _page(
        self, statement: Select[Any], query: ListQuery, today: date, params: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        values = {**page_params(query), "today": today, **(params or {})}
        rows = await read_rows(self.session, statement, values)
        # Each row: `_READ_COLUMNS`, the sort keys, the total, then positions and tags.
        plain: list[Any] = list(rows)
        return [_shape(r, r[-2], r[-1]) for r in plain], rows[0].total if rows else 0

    async def _searched(
        self, query: ListQuery, today: date, conditions: list[ColumnElement[bool]]
    ) -> tuple[list[dict[str, Any]], int]:
        """The searched list: best match first, then by name."""
        assert query.q is not None
        search = Search.of(query.q)

        async def page(fuzzy: bool) -> tuple[list[dict[str, Any]], int]:
            def build() -> Select[Any]:
                rank = search.rank(Person.search_text, fuzzy)
                order = [(rank, True), (Person.last_name, False), (Person.first_name, False), (Person.id, False)]
                return _page_statement([search.matches(Person.search_text, fuzzy), *conditions], order)

            key = None if conditions else ("people searched", search.shape, fuzzy)
            return await self._page(kept(key, build), query, today, search.params)

        async def count(fuzzy: bool) -> int:
            return await self.count(search.matches(Person.search_text, fuzzy), *conditions)

        items, total = await best_first(search, query.offset, page, count)
        return list(items), total

    async def reads(self, people: Sequence[Person], today: date | None = None) -> list[PersonRead]:
        """Read shapes for people just read or written: current positions and tags, in one query."""
        if not people:
            return []
        rows = await self.session.execute(
            select(Person.id, *_current_positions_and_tags(Person.id, today or date.today())).where(
                Person.id == any_(literal([p.id for p in people], ARRAY(Uuid)))
            )
        )
        held = {row.id: (row.positions, row.tags) for row in rows}
        columns = [column.key for column in _READ_COLUMNS]
        return [PersonRead(**_shape([getattr(p, c) for c in columns], *held[p.id])) for p in people]

    async def delete_person(self, person_id: UUID, confirm: Literal["detach"] | None) -> None:
        """A person who held positions or board seats is only deleted with them, when asked to."""
        person = await self.get(person_id)
        session = self.session
        positions = (
            await session.execute(
                select(Position.id, Position.title, Organisation.name)
                .join(Organisation, Organisation.id == Position.organisation_id)
                .where(Position.person_id == person.id)
                .order_by(nulls_last(Position.started_on.desc()))
            )
        ).all()
        mandates = (
            await session.execute(
                select(Mandate.id, Mandate.role, Mandate.term_start, Mandate.term_end)
                .where(Mandate.person_id == person.id)
                .order_by(Mandate.term_start.desc())
            )
        ).all()
        if (positions or mandates) and confirm != "detach":
            raise ProblemError(
                409,
                f"{person.first_name} {person.last_name} has {len(positions)} position(s) and {len(mandates)} "
                "board mandate(s); delete them first, or send ?confirm=detach to delete them with the person",
                errors=[field_error("confirm", 'send "detach" to delete the positions and mandates too')],
                positions=[{"id": str(i), "title": t, "organisation_name": o} for i, t, o in positions],
                mandates=[
                    {"id": str(i), "role": r.value, "term_start": str(s), "term_end": str(e) if e else None}
                    for i, r, s, e in mandates
                ],
            )
        # Row by row through the ORM, so that each deletion is in the audit log.
        for model in (Position, Mandate):
            for row in (await session.scalars(select(model).where(model.person_id == person.id))).all():
                await session.delete(row)
        for tagging in (
            await session.scalars(
                select(Tagging).where(Tagging.entity_type == PERSON_ENTITY, Tagging.entity_id == person.id)
            )
        ).all():
            await session.delete(tagging)
        await session.flush()
        await self.delete(person.id)


class PositionService(Service[Position]):
    async def create_position(self, data: PositionCreate) -> PositionRead:
        await self._check_parties(data.person_id, data.organisation_id)
        _check_dates(data.started_on, data.ended_on)
        await self._check_seat(data.organisation_id, data.title, data.person_id, data.ended_on, None)
        position = await self.create(Position(**data.model_dump()))
        return (await self.reads([position]))[0]

    async def update_position(self, position_id: UUID, data: PositionUpdate) -> PositionRead:
        position = await self.get(position_id)
        sent = data.model_dump(exclude_unset=True)
        for required in ("organisation_id", "title", "kind"):
            if required in sent and sent[required] is None:
                raise invalid(required, "cannot be empty", "required")
        if "organisation_id" in sent:
            await self._check_parties(None, sent["organisation_id"])
        _check_dates(sent.get("started_on", position.started_on), sent.get("ended_on", position.ended_on))
        await self._check_seat(
            sent.get("organisation_id", position.organisation_id),
            sent.get("title", position.title),
            position.person_id,
            sent.get("ended_on", position.ended_on),
            position.id,
        )
        self.apply(position, sent)
        position = await self.update(position)
        return (await self.reads([position]))[0]

    async def read(self, position_id: UUID) -> PositionRead:
        return (await self.reads([await self.get(position_id)]))[0]

    async def list_positions(
        self,
        query: ListQuery,
        sortable: frozenset[str],
        *,
        person_id: UUID | None,
        organisation_id: UUID | None,
        current: bool | None,
        today: date | None = None,
    ) -> tuple[list[PositionRead], int]:
        today = today or date.today()
        conditions: list[ColumnElement[bool]] = []
        if person_id:
            conditions.append(Position.person_id == person_id)
        if organisation_id:
            conditions.append(Position.organisation_id == organisation_id)
        if current is not None:
            held = Position.held_on(today)
            conditions.append(held if current else ~held)
        if query.q:
            conditions.append(
                or_(
                    person_matches(Position.person_id, query.q),
                    organisation_matches(Position.organisation_id, query.q),
                    text_matches(Position.title, query.q),
                )
            )
        items, total = await self.get_many_and_count(*query.filters(sortable, "-started_on"), *conditions)
        return await self.reads(items, today), total

    async def history(
        self, person_id: UUID, query: ListQuery, today: date | None = None
    ) -> tuple[list[PositionRead], int]:
        """Every position the person held or holds: current ones first, then the latest first."""
        today = today or date.today()
        session = self.session
        if await session.get(Person, person_id) is None:
            raise ProblemError(404, "No such person")
        condition = Position.person_id == person_id
        total = int(await session.scalar(select(func.count()).select_from(Position).where(condition)) or 0)
        items = (
            await session.scalars(
                select(Position)
                .where(condition)
                .order_by(
                    Position.held_on(today).desc(),
                    nulls_last(Position.ended_on.desc()),
                    nulls_last(Position.started_on.desc()),
                    Position.created_at.desc(),
                )
                .limit(query.limit)
                .offset(query.offset)
            )
        ).all()
        return await self.reads(items, today), total

    async def job_change(self, person_id: UUID, data: JobChange) -> JobChangeRead:
        """Ends the chosen positions and starts the new one on the same day, in this transaction."""
        session = self.session
        # Locks the person so that two job changes for one person run one after the other.
        person = await session.scalar(select(Person).where(Person.id == person_id).with_for_update())
        if person is None:
            raise ProblemError(404, "No such person")
        await self._check_parties(None, data.organisation_id)
        held_on = (
            await session.scalars(select(Position).where(Position.person_id == person_id, Position.held_on(data.on)))
        ).all()
        if data.end_current == "all":
            to_end = list(held_on)
        else:
            by_id = {p.id: p for p in held_on}
            unknown = [str(i) for i in data.end_current if i not in by_id]
            if unknown:
                raise invalid(
                    "end_current",
                    f"not positions this person holds on {data.on}: {', '.join(unknown)}",
                )
            to_end = [by_id[i] for i in dict.fromkeys(data.end_current)]
        for position in to_end:
            position.ended_on = data.on
        await self._check_seat(data.organisation_id, data.title, person_id, None, None, on=data.on)
        new = Position(
            person_id=person_id,
            organisation_id=data.organisation_id,
            title=data.title,
            kind=data.kind,
            started_on=data.on,
        )
        session.add(new)
        await session.flush()
        reads = await self.reads([new, *to_end])
        return JobChangeRead(position=reads[0], ended=reads[1:])

    async def reads(self, positions: Sequence[Position], today: date | None = None) -> list[PositionRead]:
        today = today or date.today()
        session = self.session
        people = await person_names(session, (p.person_id for p in positions))
        orgs = await organisation_names(session, (p.organisation_id for p in positions))
        return [
            PositionRead(
                id=p.id,
                person_id=p.person_id,
                person_name=people.get(p.person_id, ""),
                organisation_id=p.organisation_id,
                organisation_name=orgs.get(p.organisation_id, ""),
                title=p.title,
                kind=p.kind,
                started_on=p.started_on,
                ended_on=p.ended_on,
                is_current=p.held_on(today),
                created_at=p.created_at,
                updated_at=p.updated_at,
            )
            for p in positions
        ]

    async def seat_holder(
        self, organisation: Organisation, seat: str, on: date, *, besides: UUID | None = None
    ) -> Position | None:
        """Who holds this single seat there on that day (another position than `besides`)."""
        conditions = [Position.organisation_id == organisation.id, Position.held_on(on)]
        if besides is not None:
            conditions.append(Position.id != besides)
        held = await self.session.scalars(select(Position).where(*conditions))
        return next((p for p in held if single_seat(p.title, organisation.kind.value) == seat), None)

    async def _check_seat(
        self,
        organisation_id: UUID,
        title: str,
        person_id: UUID,
        ended_on: date | None,
        position_id: UUID | None,
        *,
        on: date | None = None,
    ) -> None:
        """A second current holder of a single seat (a second maire of one commune) is a 409."""
        on = on or date.today()
        if ended_on is not None and ended_on <= on:
            return  # a position of the past: history may hold many maires
        session = self.session
        # Locked, so that two requests giving the seat to two people run one after the other.
        organisation = await session.scalar(
            select(Organisation).where(Organisation.id == organisation_id).with_for_update()
        )
        if organisation is None:
            return
        seat = single_seat(title, organisation.kind.value)
        if seat is None:
            return
        holder = await self.seat_holder(organisation, seat, on, besides=position_id)
        if holder is not None and holder.person_id != person_id:
            names = await person_names(session, [holder.person_id])
            raise _seat_taken(holder, names.get(holder.person_id, ""), organisation)

    async def _check_parties(self, person_id: UUID | None, organisation_id: UUID | None) -> None:
        session = self.session
        if person_id is not None and await session.get(Person, person_id) is None:
            raise invalid("person_id", "no person has this id", "unknown_id")
        if organisation_id is not None and await session.get(Organisation, organisation_id) is None:
            raise invalid("organisation_id", "no organisation has this id", "unknown_id")
