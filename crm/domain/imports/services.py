"""CSV imports and exports of organisations and people.

An import is checked first (the dry run), then applied, and the two cannot disagree: the dry run
*is* the apply, run inside a savepoint that is rolled back. Each row goes through the same
services as the API (organisations, people, positions, memberships, tags), so every rule about
codes, e-mail addresses and duplicates is the one those services hold. Each row runs in its own
nested savepoint, so that a bad row leaves nothing behind and the rows after it see the database
as the apply would.

An apply is all or nothing: one bad row and nothing is written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.exceptions import RepositoryError
from advanced_alchemy.extensions.litestar.providers import create_service_provider
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.audit_listener import record
from crm.db.models.imports import ImportBatch, ImportStatus
from crm.db.models.organisation import Membership, MembershipStatus, Organisation, OrganisationKind
from crm.db.models.person import Person, Position, PositionKind
from crm.db.models.tag import Tag
from crm.domain.geo.codes import clean_departement_code, clean_insee_code, clean_region_code, clean_siren
from crm.domain.imports.csvfiles import (
    COLUMNS,
    ORGANISATION_COLUMNS,
    ORGANISATIONS,
    PEOPLE,
    CellError,
    Row,
    csv_lines,
    parse_bool,
    parse_choice,
    parse_date,
    parse_int,
    parse_tags,
    read_csv,
)
from crm.domain.memberships.schemas import MembershipCreate, MembershipUpdate
from crm.domain.memberships.services import MembershipService
from crm.domain.organisations.schemas import OrganisationCreate, OrganisationUpdate
from crm.domain.organisations.services import OrganisationService
from crm.domain.people.schemas import PersonCreate, PersonUpdate, PositionCreate
from crm.domain.people.services import PersonService, PositionService, is_current
from crm.domain.tags.schemas import TagCreate, TaggingCreate
from crm.domain.tags.services import TagService, tag_names_for
from crm.lib.listing import ListQuery
from crm.lib.problems import ProblemError, field_error
from crm.lib.schemas import normalise_email

SAMPLE_SIZE = 10
MAX_LISTED_ERRORS = 1_000
EXPORT_PAGE = 500
IMPORT_NOTE = "Import CSV"

# Words accepted in the cells, compared as `plain_key` writes them.
KIND_WORDS: dict[str, str] = {
    **{k.value: k.value for k in OrganisationKind},
    "ville": "commune",
    "mairie": "commune",
    "intercommunalite": "epci",
    "interco": "epci",
    "communaute_de_communes": "epci",
    "communaute_d_agglomeration": "epci",
    "communaute_urbaine": "epci",
    "metropole": "epci",
    "departement": "departement",
    "conseil_departemental": "departement",
    "conseil_regional": "region",
    "entreprise": "company",
    "societe": "company",
    "agence_de_l_etat": "state_agency",
    "etat": "state_agency",
    "agence": "state_agency",
    "autre": "other",
}
MEMBERSHIP_WORDS: dict[str, str] = {
    **{s.value: s.value for s in MembershipStatus},
    "actif": "active",
    "active": "active",
    "adherent": "active",
    "adherente": "active",
    "membre": "active",
    "en_retard": "lapsed",
    "echu": "lapsed",
    "expire": "lapsed",
    "demissionnaire": "resigned",
    "resilie": "resigned",
    "radie": "resigned",
    "prospect": "prospect",
    "contact": "prospect",
}
POSITION_KIND_WORDS: dict[str, str] = {
    **{k.value: k.value for k in PositionKind},
    "elu": "elected",
    "elue": "elected",
    "elu_e": "elected",
    "agent": "staff",
    "agente": "staff",
    "salarie": "staff",
    "salariee": "staff",
    "personnel": "staff",
}
# The schema field each column's value goes to, where the names differ.
POSITION_FIELDS = {"title": "position_title", "kind": "position_kind", "started_on": "position_started_on"}


class RowRejected(Exception):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("row rejected")
        self.errors = errors


@dataclass
class Outcome:
    action: str  # create, update, unchanged
    label: str
    changes: dict[str, Any] = field(default_factory=dict)


class Cells:
    """Reads a row's cells, collecting every problem instead of stopping at the first."""

    def __init__(self, row: Row) -> None:
        self.row = row
        self.errors: list[tuple[str, str]] = []

    def text(self, column: str) -> str | None:
        return self.row.values.get(column) or None

    def parse(self, column: str, parser: Callable[[str], Any]) -> Any:
        raw = self.text(column)
        if raw is None:
            return None
        try:
            return parser(raw)
        except CellError as exc:
            self.errors.append((column, str(exc)))
        except ProblemError as exc:
            self.errors.append((column, _problem_message(exc)))
        return None

    def fail(self, column: str, why: str) -> None:
        self.errors.append((column, why))

    def check(self) -> None:
        if self.errors:
            raise RowRejected(self.errors)


def _problem_message(exc: ProblemError) -> str:
    if exc.errors:
        return "; ".join(str(e.get("detail", "")) for e in exc.errors)
    return exc.detail


def _problem_errors(exc: ProblemError, columns: dict[str, str] | None = None) -> list[tuple[str, str]]:
    columns = columns or {}
    if not exc.errors:
        return [("", exc.detail)]
    return [
        (columns.get(str(e.get("field", "")), str(e.get("field", ""))), str(e.get("detail", ""))) for e in exc.errors
    ]


def _validation_errors(exc: ValidationError, columns: dict[str, str] | None = None) -> list[tuple[str, str]]:
    columns = columns or {}
    result = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        result.append((columns.get(name, name), error["msg"]))
    return result


class ImportBatchRepository(SQLAlchemyAsyncRepository[ImportBatch]):
    model_type = ImportBatch


class _Run:
    """One pass over the rows, writing through the services in the current transaction."""

    def __init__(self, session: AsyncSession, kind: str) -> None:
        self.session = session
        self.kind = kind
        self.today = date.today()
        self.organisations = OrganisationService(session=session)
        self.memberships = MembershipService(session=session)
        self.people = PersonService(session=session)
        self.positions = PositionService(session=session)
        self.tags = TagService(session=session)
        self.tag_ids: dict[str, UUID] = {}
        self.seen: dict[str, int] = {}  # a key of this file (code, e-mail) -> the line it was first on
        # People files name the same few hundred organisations again and again; they do not change
        # during a people import, so each code is looked up once.
        self.organisation_by_code: dict[tuple[str | None, str | None], Organisation | None] = {}
        # The addresses of the file already in the database, read in bulk before the rows: a row
        # whose address is not there creates a person without looking it up again.
        self.known_emails: set[str] | None = None

    async def prefetch(self, rows: list[Row]) -> None:
        if self.kind != PEOPLE:
            return
        emails = set()
        for row in rows:
            try:
                emails.add(normalise_email(row.values.get("email") or ""))
            except ValueError:
                continue
        self.known_emails = set()
        wanted = sorted(emails)
        for i in range(0, len(wanted), 5_000):
            found = await self.session.scalars(select(Person.email).where(Person.email.in_(wanted[i : i + 5_000])))
            self.known_emails.update(e for e in found if e)

    async def row(self, row: Row) -> Outcome:
        if self.kind == ORGANISATIONS:
            return await self.organisation_row(row)
        return await self.person_row(row)

    def first_seen(self, key: str, line: int) -> int | None:
        earlier = self.seen.get(key)
        if earlier is None:
            self.seen[key] = line
        return earlier

    # --- organisations -------------------------------------------------------------------------

    async def organisation_row(self, row: Row) -> Outcome:
        c = Cells(row)
        kind = c.parse("kind", lambda v: parse_choice(v, KIND_WORDS, "kind of organisation"))
        insee_code = c.parse("insee_code", clean_insee_code)
        siren = c.parse("siren", clean_siren)
        population = c.parse("population", parse_int)
        departement_code = c.parse("departement_code", clean_departement_code)
        region_code = c.parse("region_code", clean_region_code)
        is_partner = c.parse("is_partner", parse_bool)
        status = c.parse("membership_status", lambda v: parse_choice(v, MEMBERSHIP_WORDS, "membership status"))
        member_since = c.parse("member_since", parse_date)
        tags = c.parse("tags", parse_tags) or []
        c.check()
        if kind is None:
            if insee_code:
                kind = OrganisationKind.COMMUNE.value
            elif siren:
                kind = OrganisationKind.EPCI.value
            else:
                c.fail("kind", "required when there is neither an INSEE code nor a SIREN")
        for column, code in (("insee_code", insee_code), ("siren", siren)):
            if code and (earlier := self.first_seen(f"{column}:{code}", row.line)) is not None:
                c.fail(column, f"{code} is also on line {earlier}: one line per organisation")
        c.check()

        existing = None
        by_insee = await self.organisations.find_by_code(insee_code=insee_code) if insee_code else None
        by_siren = await self.organisations.find_by_code(siren=siren) if siren else None
        if by_insee and by_siren and by_insee.id != by_siren.id:
            c.fail("siren", f"belongs to {by_siren.name}, while the INSEE code is that of {by_insee.name}")
        existing = by_insee or by_siren
        name = c.text("name")
        if existing is None and not insee_code and not siren and kind and name:
            # Without an official code (associations, agencies...), the same kind and name is the same organisation.
            same_name = (
                await self.session.scalars(
                    select(Organisation)
                    .where(Organisation.kind == OrganisationKind(kind), func.lower(Organisation.name) == name.lower())
                    .limit(2)
                )
            ).all()
            if len(same_name) == 1:
                existing = same_name[0]
        if existing is not None and existing.kind.value != kind and c.text("kind"):
            c.fail("kind", f"{existing.name} is a {existing.kind.value}, not a {kind}")
        if existing is not None and siren and existing.siren and existing.siren != siren:
            c.fail("siren", f"{existing.name} has the SIREN {existing.siren}; a SIREN does not change")
        c.check()

        official = kind in (OrganisationKind.COMMUNE.value, OrganisationKind.EPCI.value)
        fields: dict[str, Any] = {
            "name": c.text("name"),
            "population": population,
            "departement_code": departement_code,
            "region_code": region_code,
            "is_partner": is_partner,
            "email": c.text("email"),
            "phone": c.text("phone"),
            "website": c.text("website"),
            "address": c.text("address"),
        }
        if official:
            # The reference geography decides these for communes and EPCIs.
            for name in ("name", "population", "departement_code", "region_code"):
                fields.pop(name)
        sent = {k: v for k, v in fields.items() if v is not None}

        if existing is None:
            try:
                data = OrganisationCreate(kind=kind, insee_code=insee_code, siren=siren, **sent)
            except ValidationError as exc:
                raise RowRejected(_validation_errors(exc)) from exc
            organisation = await self._service_call(self.organisations.create_organisation(data))
            outcome = Outcome("create", organisation.name, {k: _plain(v) for k, v in sent.items()})
        else:
            organisation = existing
            try:
                update = OrganisationUpdate(**sent)
            except ValidationError as exc:
                raise RowRejected(_validation_errors(exc)) from exc
            changes = {
                k: {"old": _plain(getattr(organisation, k)), "new": _plain(v)}
                for k, v in update.model_dump(exclude_unset=True).items()
                if getattr(organisation, k) != v
            }
            if changes:
                data_changes = OrganisationUpdate(**{k: update.model_dump()[k] for k in changes})
                organisation = await self._service_call(
                    self.organisations.update_organisation(organisation.id, data_changes)
                )
            outcome = Outcome("update" if changes else "unchanged", organisation.name, changes)

        if status is not None or member_since is not None:
            await self._membership(organisation, status, member_since, outcome)
        await self._tags("organisation", organisation.id, tags, outcome, new=existing is None)
        if outcome.action == "unchanged" and outcome.changes:
            outcome.action = "update"
        return outcome

    async def _membership(
        self, organisation: Organisation, status: str | None, member_since: date | None, outcome: Outcome
    ) -> None:
        membership = await self.session.scalar(select(Membership).where(Membership.organisation_id == organisation.id))
        columns = {"status": "membership_status", "member_since": "member_since", "ended_on": "membership_status"}
        if membership is None:
            chosen = MembershipStatus(status) if status else MembershipStatus.ACTIVE
            data = MembershipCreate(
                organisation_id=organisation.id,
                status=chosen,
                member_since=member_since,
                changed_on=member_since if chosen == MembershipStatus.ACTIVE else None,
                note=IMPORT_NOTE,
            )
            await self._service_call(self.memberships.join(data), columns)
            if outcome.action != "create":
                outcome.changes["membership_status"] = {"old": None, "new": chosen.value}
            else:
                outcome.changes["membership_status"] = chosen.value
            return
        sent: dict[str, Any] = {}
        if status is not None and membership.status.value != status:
            sent["status"] = MembershipStatus(status)
        if member_since is not None and membership.member_since != member_since:
            sent["member_since"] = member_since
        if sent:
            old = {"status": membership.status.value, "member_since": _plain(membership.member_since)}
            await self._service_call(
                self.memberships.change(membership.id, MembershipUpdate(**sent, note=IMPORT_NOTE)), columns
            )
            for key, value in sent.items():
                outcome.changes[columns[key]] = {"old": old[key], "new": _plain(value)}

    # --- people --------------------------------------------------------------------------------

    async def person_row(self, row: Row) -> Outcome:
        c = Cells(row)
        raw_email = c.text("email")
        email = None
        if raw_email is None:
            c.fail("email", "required: people are matched on their e-mail address")
        else:
            try:
                email = normalise_email(raw_email)
            except ValueError as exc:
                c.fail("email", str(exc))
        insee_code = c.parse("organisation_insee_code", lambda v: clean_insee_code(v, "organisation_insee_code"))
        siren = c.parse("organisation_siren", lambda v: clean_siren(v, "organisation_siren"))
        kind = c.parse("position_kind", lambda v: parse_choice(v, POSITION_KIND_WORDS, "kind of position"))
        started_on = c.parse("position_started_on", parse_date)
        tags = c.parse("tags", parse_tags) or []
        title = c.text("position_title")
        if email and (earlier := self.first_seen(f"email:{email}", row.line)) is not None:
            c.fail("email", f"{email} is also on line {earlier}: one line per person")
        organisation = None
        if insee_code or siren:
            column = "organisation_insee_code" if insee_code else "organisation_siren"
            key = (insee_code, siren)
            if key not in self.organisation_by_code:
                self.organisation_by_code[key] = await self.organisations.find_by_code(
                    insee_code=insee_code, siren=siren
                )
            organisation = self.organisation_by_code[key]
            if organisation is None:
                c.fail(column, f"no organisation has the code {insee_code or siren}; import the organisations first")
            if not title:
                c.fail("position_title", "required with an organisation code (maire, DGS, DSI...)")
        elif title or kind or started_on:
            c.fail("organisation_insee_code", "a position needs the INSEE code or the SIREN of its organisation")
        c.check()
        assert email is not None

        fields: dict[str, Any] = {
            "first_name": c.text("first_name"),
            "last_name": c.text("last_name"),
            "phone": c.text("phone"),
            "language": c.text("language"),
        }
        sent = {k: v for k, v in fields.items() if v is not None}
        known = self.known_emails is None or email in self.known_emails
        existing = await self.people.find_by_email(email) if known else None
        if existing is None:
            for required in ("first_name", "last_name"):
                if required not in sent:
                    c.fail(required, "required for a new person")
            c.check()
            try:
                data = PersonCreate(email=email, **sent)
            except ValidationError as exc:
                raise RowRejected(_validation_errors(exc)) from exc
            person = await self._service_call(self.people.create_person(data))
            outcome = Outcome("create", f"{person.first_name} {person.last_name} <{email}>", dict(sent))
        else:
            person = existing
            try:
                update = PersonUpdate(**sent)
            except ValidationError as exc:
                raise RowRejected(_validation_errors(exc)) from exc
            changes = {
                k: {"old": getattr(person, k), "new": v}
                for k, v in update.model_dump(exclude_unset=True).items()
                if getattr(person, k) != v
            }
            if changes:
                person = await self._service_call(
                    self.people.update_person(person.id, PersonUpdate(**{k: v["new"] for k, v in changes.items()}))
                )
            outcome = Outcome(
                "update" if changes else "unchanged", f"{person.first_name} {person.last_name} <{email}>", changes
            )

        if organisation is not None and title:
            await self._position(person.id, organisation, title, kind, started_on, outcome, new=existing is None)
        await self._tags("person", person.id, tags, outcome, new=existing is None)
        if outcome.action == "unchanged" and outcome.changes:
            outcome.action = "update"
        return outcome

    async def _position(
        self,
        person_id: UUID,
        organisation: Organisation,
        title: str,
        kind: str | None,
        started_on: date | None,
        outcome: Outcome,
        *,
        new: bool,
    ) -> None:
        if not new:
            held = (
                await self.session.scalars(
                    select(Position).where(Position.person_id == person_id, Position.organisation_id == organisation.id)
                )
            ).all()
            wanted = title.casefold()
            if any(p.title.casefold() == wanted and is_current(p, self.today) for p in held):
                return
        if kind is None:
            raise RowRejected([("position_kind", "required for a new position: elected or staff")])
        try:
            data = PositionCreate(
                person_id=person_id,
                organisation_id=organisation.id,
                title=title,
                kind=PositionKind(kind),
                started_on=started_on,
            )
        except ValidationError as exc:
            raise RowRejected(_validation_errors(exc, POSITION_FIELDS)) from exc
        # The person and the organisation were just found or created and an import sets no end date,
        # so the checks of `create_position` hold; skipping its read shape saves three queries a row.
        await self._service_call(self.positions.create(Position(**data.model_dump()), auto_refresh=False))
        outcome.changes["position"] = f"{title} ({kind}) at {organisation.name}"

    # --- shared --------------------------------------------------------------------------------

    async def _tags(self, entity_type: str, entity_id: UUID, names: list[str], outcome: Outcome, *, new: bool) -> None:
        """Adds the tags listed (an import never removes a tag)."""
        if not names:
            return
        have = (
            set()
            if new
            else {n.casefold() for n in (await tag_names_for(self.session, entity_type, [entity_id]))[entity_id]}
        )
        added = []
        for name in names:
            if name.casefold() in have:
                continue
            tag_id = await self._tag_id(name)
            await self._service_call(self.tags.tag(tag_id, TaggingCreate(entity_type=entity_type, entity_id=entity_id)))  # type: ignore[arg-type]
            added.append(name)
        if added:
            outcome.changes["tags"] = added if new else {"added": added}

    async def _tag_id(self, name: str) -> UUID:
        key = name.casefold()
        if key not in self.tag_ids:
            tag = await self.tags.get_one_or_none(func.lower(Tag.name) == name.lower())
            if tag is None:
                try:
                    created = await self._service_call(self.tags.create_tag(TagCreate(name=name)), {"name": "tags"})
                except ValidationError as exc:
                    raise RowRejected([("tags", f"{name!r}: {e['msg']}") for e in exc.errors()]) from exc
                self.tag_ids[key] = created.id
            else:
                self.tag_ids[key] = tag.id
        return self.tag_ids[key]

    async def _service_call(self, call: Awaitable[Any], columns: dict[str, str] | None = None) -> Any:
        try:
            return await call
        except ProblemError as exc:
            raise RowRejected(_problem_errors(exc, columns)) from exc
        except ValidationError as exc:
            raise RowRejected(_validation_errors(exc, columns)) from exc
        except RepositoryError as exc:
            raise RowRejected([("", f"the database refused this row ({type(exc).__name__})")]) from exc


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return getattr(value, "value", value)


class ImportService(SQLAlchemyAsyncRepositoryService[ImportBatch]):
    repository_type = ImportBatchRepository

    async def _run(self, kind: str, rows: list[Row], meta: dict[str, Any]) -> dict[str, Any]:
        """Runs every row through the services in the current transaction; returns the report."""
        session = self.repository.session
        run = _Run(session, kind)
        await run.prefetch(rows)
        errors: list[dict[str, Any]] = []
        counts = {"create": 0, "update": 0, "unchanged": 0}
        samples: dict[str, list[dict[str, Any]]] = {"create": [], "update": [], "unchanged": []}
        for row in rows:
            try:
                async with session.begin_nested():
                    outcome = await run.row(row)
            except RowRejected as exc:
                errors.extend({"line": row.line, "column": col, "why": why} for col, why in exc.errors)
                continue
            counts[outcome.action] += 1
            if len(samples[outcome.action]) < SAMPLE_SIZE:
                sample: dict[str, Any] = {"line": row.line, "label": outcome.label}
                if outcome.changes:
                    sample["changes"] = outcome.changes
                samples[outcome.action].append(sample)
        return {
            **meta,
            "kind": kind,
            "rows": len(rows),
            "errors": errors[:MAX_LISTED_ERRORS],
            "error_count": len(errors),
            "to_create": counts["create"],
            "to_update": counts["update"],
            "unchanged": counts["unchanged"],
            "first_to_create": samples["create"],
            "first_to_update": samples["update"],
            "first_unchanged": samples["unchanged"],
        }

    async def check(self, kind: str, filename: str, data: bytes) -> ImportBatch:
        """The dry run: reads the file, runs the apply in a savepoint, rolls it back, and keeps
        the rows and the report for the apply."""
        parsed = read_csv(data, kind)
        meta = {
            "encoding": parsed.encoding,
            "delimiter": parsed.delimiter,
            "columns": parsed.columns,
            "ignored_columns": parsed.ignored_columns,
        }
        session = self.repository.session
        savepoint = await session.begin_nested()
        try:
            report = await self._run(kind, parsed.rows, meta)
        finally:
            await savepoint.rollback()
        batch = ImportBatch(
            kind=kind,
            filename=(filename or "import.csv")[:300],
            status=ImportStatus.CHECKED,
            encoding=parsed.encoding,
            delimiter=parsed.delimiter,
            rows=[{"line": r.line, "values": r.values} for r in parsed.rows],
            report=report,
        )
        return await self.create(batch)

    async def apply(self, batch_id: UUID) -> ImportBatch:
        """All or nothing. A batch with a bad row is marked failed, with the new report, and
        answers 422; an applied batch is never applied again (409)."""
        session = self.repository.session
        batch = await session.scalar(select(ImportBatch).where(ImportBatch.id == batch_id).with_for_update())
        if batch is None:
            raise ProblemError(404, "No such import")
        if batch.status == ImportStatus.APPLIED:
            raise ProblemError(409, f"This import was already applied on {batch.applied_at:%Y-%m-%d %H:%M} UTC")
        rows = [Row(line=r["line"], values=r["values"]) for r in batch.rows]
        meta = {k: batch.report.get(k) for k in ("encoding", "delimiter", "columns", "ignored_columns")}
        savepoint = await session.begin_nested()
        report = await self._run(batch.kind, rows, meta)
        if report["error_count"]:
            await savepoint.rollback()
            batch.status = ImportStatus.FAILED
            batch.report = report
            await session.commit()  # keep the failed state and its report; nothing else was written
            raise ProblemError(
                422,
                f"{report['error_count']} row error(s): nothing was imported; fix the file and check it again",
                errors=[
                    {**field_error(e["column"] or "row", e["why"]), "line": e["line"], "column": e["column"]}
                    for e in report["errors"]
                ],
                report=report,
            )
        await savepoint.commit()
        batch.status = ImportStatus.APPLIED
        batch.applied_at = datetime.now(UTC)
        batch.report = report
        return await self.update(batch)

    async def list_batches(self, query: ListQuery, sortable: frozenset[str], kind: str | None) -> tuple[Any, int]:
        conditions = [ImportBatch.kind == kind] if kind else []
        return await self.get_many_and_count(*query.filters(sortable, "-created_at"), *conditions)

    # --- exports -------------------------------------------------------------------------------

    async def start_export(self, kind: str, filters: dict[str, Any], q: str | None) -> None:
        """Checks the filters (a bad one is a 422 before any byte is sent) and logs the export."""
        probe = ListQuery(limit=1, offset=0, sort="id", q=q)
        if kind == ORGANISATIONS:
            await OrganisationService(session=self.repository.session).search(probe, frozenset({"id"}), **filters)
        else:
            await PersonService(session=self.repository.session).list_people(probe, frozenset({"id"}), **filters)
        entity_type = "organisation" if kind == ORGANISATIONS else "person"
        record(self.repository.session, "export", entity_type, None, q=q, filters=filters)


async def organisation_rows(
    session: AsyncSession, filters: dict[str, Any], q: str | None
) -> AsyncIterator[dict[str, Any]]:
    """Every organisation the filters select, page by page, in the import's columns."""
    service = OrganisationService(session=session)
    offset = 0
    while True:
        items, _ = await service.search(
            ListQuery(limit=EXPORT_PAGE, offset=offset, sort="id", q=q), frozenset({"id"}), **filters
        )
        if not items:
            return
        ids = [o.id for o in items]
        memberships = {
            m.organisation_id: m
            for m in (await session.scalars(select(Membership).where(Membership.organisation_id.in_(ids)))).all()
        }
        tags = await tag_names_for(session, "organisation", ids)
        for o in items:
            membership = memberships.get(o.id)
            yield {
                **{c: getattr(o, c) for c in ORGANISATION_COLUMNS if hasattr(Organisation, c)},
                "membership_status": membership.status if membership else None,
                "member_since": membership.member_since if membership else None,
                "tags": tags.get(o.id, []),
            }
        offset += EXPORT_PAGE


async def people_rows(session: AsyncSession, filters: dict[str, Any], q: str | None) -> AsyncIterator[dict[str, Any]]:
    """Every person the filters select, with their latest current position at an organisation that
    has an INSEE code or a SIREN, in the import's columns."""
    service = PersonService(session=session)
    offset = 0
    while True:
        items, _ = await service.list_people(
            ListQuery(limit=EXPORT_PAGE, offset=offset, sort="id", q=q), frozenset({"id"}), **filters
        )
        if not items:
            return
        org_ids = {position.organisation_id for p in items for position in p.positions}
        codes = {
            row.id: (row.insee_code, row.siren)
            for row in (
                await session.execute(
                    select(Organisation.id, Organisation.insee_code, Organisation.siren).where(
                        Organisation.id.in_(org_ids)
                    )
                )
            ).all()
        }
        for p in items:
            # The latest current position at an organisation with an official code: the import finds
            # organisations by code, so a position elsewhere (a partner association) cannot round-trip.
            position = next((x for x in p.positions if any(codes.get(x.organisation_id, ()))), None)
            insee_code, siren = codes[position.organisation_id] if position else (None, None)
            yield {
                "first_name": p.first_name,
                "last_name": p.last_name,
                "email": p.email,
                "phone": p.phone,
                "language": p.language,
                "organisation_insee_code": insee_code,
                "organisation_siren": siren if not insee_code else None,
                "position_title": position.title if position else None,
                "position_kind": position.kind if position else None,
                "position_started_on": position.started_on if position else None,
                "tags": p.tags,
            }
        offset += EXPORT_PAGE


async def export_chunks(
    session: AsyncSession, kind: str, filters: dict[str, Any], q: str | None
) -> AsyncIterator[bytes]:
    rows = organisation_rows(session, filters, q) if kind == ORGANISATIONS else people_rows(session, filters, q)
    columns = COLUMNS[kind]
    buffered: list[dict[str, Any]] = []
    header_sent = False
    async for row in rows:
        buffered.append(row)
        if len(buffered) >= EXPORT_PAGE:
            yield "".join(_lines(columns, buffered, header=not header_sent)).encode("utf-8")
            header_sent = True
            buffered = []
    yield "".join(_lines(columns, buffered, header=not header_sent)).encode("utf-8")


def _lines(columns: tuple[str, ...], rows: list[dict[str, Any]], *, header: bool) -> list[str]:
    lines = list(csv_lines(columns, rows))
    return lines if header else lines[1:]


provide_import_service = create_service_provider(ImportService)
