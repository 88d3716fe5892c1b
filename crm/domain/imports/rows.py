"""Row rules of a CSV import of organisations or people: what each row means for the CRM.

An import is checked first (the dry run), then applied, and the two cannot disagree: the dry run
*is* the apply, in a transaction that is rolled back. Each row goes through the same rules as the
API (organisations, people, positions, memberships, tags), so every rule about codes, e-mail
addresses and duplicates is the one the services and schemas hold. A bad row leaves nothing behind,
so the rows after it see the database as the apply would.

Both run in the worker (`jobs/imports.py`), which writes its progress on the batch as it goes.
An apply is all or nothing: one bad row and nothing is written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from advanced_alchemy.exceptions import RepositoryError
from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from crm.db.lookups import person_names
from crm.db.models.membership import Membership, MembershipStatus
from crm.db.models.organisation import Organisation, OrganisationKind
from crm.db.models.person import Person, Position, PositionKind
from crm.db.models.reference import Commune
from crm.db.models.tag import Tag, Tagging
from crm.domain.geo.codes import clean_departement_code, clean_insee_code, clean_region_code, clean_siren
from crm.domain.geo.names import COMMUNE, Gazetteer, gazetteer
from crm.domain.imports.csvfiles import (
    ORGANISATIONS,
    PEOPLE,
    CellError,
    Reason,
    Row,
    clean_phone,
    coded,
    lost_letters,
    parse_bool,
    parse_choice,
    parse_date,
    parse_id,
    parse_int,
    parse_tags,
    phone_digits,
)
from crm.domain.imports.vocabulary import ELECTED_FUNCTIONS, PRESIDENT_ELECTED_AT, STAFF_FUNCTIONS, words
from crm.domain.memberships.schemas import MembershipCreate, MembershipUpdate
from crm.domain.memberships.services import MembershipService
from crm.domain.organisations.schemas import OrganisationCreate, OrganisationUpdate
from crm.domain.organisations.services import OrganisationService
from crm.domain.outbox.suppression import erased_addresses
from crm.domain.people.schemas import PersonCreate, PersonUpdate, PositionCreate
from crm.domain.people.services import PersonService, single_seat
from crm.domain.tags.schemas import TagCreate
from crm.domain.tags.services import TagService, tag_key, tag_key_sql, tag_names_for
from crm.lib.problems import ProblemError, schema_error_code
from crm.lib.schemas import normalise_email

SAMPLE_SIZE = 10
MAX_LISTED_ERRORS = 1_000
IMPORT_NOTE = "Import CSV"
FETCH_CHUNK = 5_000  # values in one IN (...) when reading what a file refers to
# Rows between two flushes of the waiting writes and two progress reports.
PROGRESS_EVERY = 250
ORGANISATION = "organisation"
PERSON = "person"
COLUMN_CODES = ("insee_code", "siren")


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
LOST_LETTER = (
    "has a '?' where a letter was lost (the file was saved in Windows-1252 by a program that could not "
    "write that letter): correct it, or save the file as CSV UTF-8"
)
MAX_LISTED_WARNINGS = 1_000


def _phrases(text: str) -> str:
    return " " + " ".join(words(text)) + " "


def infer_kind(title: str, organisation_kind: str) -> tuple[str | None, str]:
    """The kind of position a title says (maire: elected, DGS: staff), and why or why not. The
    function word that comes first wins only when the title names just one kind ("Adjoint au
    maire"); a title naming both ("Directeur de cabinet du maire") or none is a doubt."""
    text = _phrases(title)
    found: dict[str, tuple[int, int]] = {}  # kind -> (where, -length) of its first, longest word
    for kind, phrases in (("elected", ELECTED_FUNCTIONS), ("staff", STAFF_FUNCTIONS)):
        for phrase in phrases:
            at = text.find(f" {phrase} ")
            if at >= 0 and (kind not in found or (at, -len(phrase)) < found[kind]):
                found[kind] = (at, -len(phrase))
    if "elected" in found and "staff" in found:
        # "Conseiller numérique" is a job although "conseiller" alone is not: the longer phrase at
        # the same place wins; otherwise the title is unclear.
        (e_at, e_len), (s_at, s_len) = found["elected"], found["staff"]
        if e_at == s_at and e_len != s_len:
            found.pop("staff" if e_len < s_len else "elected")  # lengths are negated
    if len(found) != 1:
        why = "names both an elected office and a job" if found else "names no function known to the import"
        return None, f"cannot tell elected from staff: {title!r} {why}; write élu or agent in a Type column"
    kind = next(iter(found))
    presides = _phrases(title).lstrip().startswith(("president ", "presidente ", "vice "))
    if kind == "elected" and presides and organisation_kind not in PRESIDENT_ELECTED_AT:
        return None, (
            f"cannot tell elected from staff: {title!r} at an organisation of kind {organisation_kind} may be "
            "either; write élu or agent in a Type column"
        )
    return kind, Reason(f"{kind} (from the function {title!r})", "kind_from_function", kind=kind, title=title)


class RowRejected(Exception):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("row rejected")
        self.errors = errors


@dataclass
class Outcome:
    action: str  # create, update, unchanged
    label: str
    changes: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    # What the import did on its own and says so (a phone's lost 0 restored, a kind inferred).
    warnings: list[tuple[str, str]] = field(default_factory=list)


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
            self.errors.append((column, exc.reason))
        except ProblemError as exc:
            self.errors.append((column, _problem_message(exc)))
        return None

    def fail(self, column: str, why: str) -> None:
        self.errors.append((column, why))

    def check(self) -> None:
        if self.errors:
            raise RowRejected(self.errors)


def _problem_reason(error: dict[str, Any]) -> str:
    return Reason(str(error.get("detail", "")), error.get("code"), **(error.get("params") or {}))


def _problem_message(exc: ProblemError) -> str:
    if len(exc.errors) == 1:
        return _problem_reason(exc.errors[0])
    if exc.errors:
        return "; ".join(str(e.get("detail", "")) for e in exc.errors)
    return exc.detail


def _problem_errors(exc: ProblemError, columns: dict[str, str] | None = None) -> list[tuple[str, str]]:
    columns = columns or {}
    if not exc.errors:
        return [("", exc.detail)]
    return [(columns.get(str(e.get("field", "")), str(e.get("field", ""))), _problem_reason(e)) for e in exc.errors]


def _validation_errors(exc: ValidationError, columns: dict[str, str] | None = None) -> list[tuple[str, str]]:
    columns = columns or {}
    result: list[tuple[str, str]] = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        code, params = schema_error_code(error)
        result.append((columns.get(name, name), Reason(error["msg"], code, **params)))
    return result


def _quietly(clean: Callable[[str], Any], value: str | None) -> Any:
    """The cleaned code or address, or None when the cell is empty or bad (its row says why later)."""
    if not value:
        return None
    try:
        return clean(value)
    except (CellError, ProblemError, ValueError):
        return None


def _chunks(values: Iterable[Any], size: int = FETCH_CHUNK) -> Iterator[list[Any]]:
    ordered = sorted(values)
    for i in range(0, len(ordered), size):
        yield ordered[i : i + size]


class _Run:
    """One pass over the rows, writing through the services in the current transaction.

    What the rows refer to (organisations by code, people by e-mail, their positions and tags, the
    tags by name, memberships) is read for the whole file first, in a few queries. A people row is
    then checked entirely before it writes anything, so it needs no savepoint: its writes wait in
    the session and go to the database in batches, audit entries included. Organisation rows go
    through `create_organisation` / `update_organisation` and the membership rules, which read the
    reference geography; each runs in a savepoint, so that a bad row leaves nothing behind."""

    def __init__(self, session: AsyncSession, kind: str) -> None:
        self.session = session
        self.kind = kind
        self.today = date.today()
        self.organisations = OrganisationService(session=session)
        self.memberships = MembershipService(session=session)
        self.people = PersonService(session=session)
        self.tags = TagService(session=session)
        self.tag_ids: dict[str, UUID] = {}  # tag_key(name) -> id
        self.seen: dict[str, int] = {}  # a key of this file (id, code, e-mail) -> the line it was first on
        self.by_id: dict[UUID, Organisation] = {}
        self.by_insee: dict[str, Organisation] = {}
        self.by_siren: dict[str, Organisation] = {}
        self.membership_of: dict[UUID, Membership] = {}
        self.people_by_email: dict[str, Person] = {}
        self.people_by_id: dict[UUID, Person] = {}
        self.positions_of: dict[UUID, list[Position]] = defaultdict(list)
        self.tags_of: dict[UUID, set[str]] = {}  # record id -> lower-case names of its tags
        self.emails: dict[str, str | ValueError] = {}
        self.erased: set[str] = set()  # addresses of this file whose person was erased
        self.prefetched: set[UUID] = set()  # the organisations whose membership and tags were read
        self.places: Gazetteer | None = None
        self.place_found: dict[int, tuple[str | None, str | None] | str] = {}  # line -> (insee, siren) or why not
        self.reference_communes: dict[str, str] = {}  # INSEE code -> name, for codes no organisation has
        # (organisation, seat) -> its current holder, and the line of this file that made them so (0: before).
        self.seat_holders: dict[tuple[UUID, str], tuple[Position, int]] = {}
        self.holder_names: dict[UUID, str] = {}

    async def prefetch(self, rows: list[Row]) -> None:
        people = self.kind == PEOPLE
        insee_column, siren_column = ("organisation_insee_code", "organisation_siren") if people else COLUMN_CODES
        insee_codes: set[str] = set()
        sirens: set[str] = set()
        emails: set[str] = set()
        ids: set[UUID] = set()
        tag_names: set[str] = set()
        if any(row.values.get("place") for row in rows):
            self.places = await gazetteer(self.session)
        for row in rows:
            values = row.values
            if (
                self.places is not None
                and values.get("place")
                and not (values.get(insee_column) or values.get(siren_column))
            ):
                named = self.find_place(values["place"], values.get("departement_code"))
                self.place_found[row.line] = named
                if isinstance(named, tuple):
                    values = {**values, insee_column: named[0] or "", siren_column: named[1] or ""}
            if record_id := _quietly(parse_id, values.get("id")):
                ids.add(record_id)
            if code := _quietly(clean_insee_code, values.get(insee_column)):
                insee_codes.add(code)
            if code := _quietly(clean_siren, values.get(siren_column)):
                sirens.add(code)
            if people and (email := _quietly(self.email, values.get("email"))):
                emails.add(email)
            tag_names.update(tag_key(name) for name in parse_tags(values.get("tags") or ""))
        scalars = self.session.scalars
        for chunk in _chunks(insee_codes):
            for org in await scalars(select(Organisation).where(Organisation.insee_code.in_(chunk))):
                self.by_insee[org.insee_code or ""] = org
        for chunk in _chunks(sirens):
            for org in await scalars(select(Organisation).where(Organisation.siren.in_(chunk))):
                self.by_siren[org.siren or ""] = org
        for chunk in _chunks(tag_names):
            for tag in await scalars(select(Tag).where(tag_key_sql(Tag.name).in_(chunk))):
                self.tag_ids[tag_key(tag.name)] = tag.id
        if people:
            for chunk in _chunks(ids):
                for person in await scalars(select(Person).where(Person.id.in_(chunk))):
                    self.people_by_id[person.id] = person
            for chunk in _chunks(emails):
                for person in await scalars(select(Person).where(Person.email.in_(chunk))):
                    self.people_by_email[person.email or ""] = person
            self.erased = await erased_addresses(self.session, emails)
            found = list({p.id for p in (*self.people_by_id.values(), *self.people_by_email.values())})
            for chunk in _chunks(found):
                for position in await scalars(select(Position).where(Position.person_id.in_(chunk))):
                    self.positions_of[position.person_id].append(position)
            await self._prefetch_tags(PERSON, found)
            await self._prefetch_seats()
            missing = insee_codes - set(self.by_insee)
            for chunk in _chunks(missing):
                rows_found = await self.session.execute(
                    select(Commune.insee_code, Commune.name).where(Commune.insee_code.in_(chunk))
                )
                self.reference_communes.update(dict(rows_found.all()))
        else:
            for chunk in _chunks(ids):
                for org in await scalars(select(Organisation).where(Organisation.id.in_(chunk))):
                    self.by_id[org.id] = org
            listed = (*self.by_id.values(), *self.by_insee.values(), *self.by_siren.values())
            await self._prefetch_organisations({o.id for o in listed})

    async def _prefetch_seats(self) -> None:
        """The current holders of the single seats (maire, président·e) of the organisations named."""
        organisations = {o.id: o for o in (*self.by_insee.values(), *self.by_siren.values())}
        for chunk in _chunks(organisations):
            for position in await self.session.scalars(
                select(Position).where(
                    Position.organisation_id.in_(chunk),
                    Position.held_on(self.today),
                    or_(Position.title.ilike("%maire%"), Position.title.ilike("%sident%")),
                )
            ):
                kind = organisations[position.organisation_id].kind.value
                if seat := single_seat(position.title, kind):
                    self.seat_holders[(position.organisation_id, seat)] = (position, 0)
        holders = [p.person_id for p, _ in self.seat_holders.values()]
        self.holder_names = await person_names(self.session, holders) if holders else {}

    def find_place(self, text: str, departement: str | None) -> tuple[str | None, str | None] | str:
        """The codes of the commune or EPCI a name is, or why it is none or several."""
        assert self.places is not None
        found = self.places.find(text, departement)
        if (place := found.one) is not None:
            return (place.code, None) if place.kind == COMMUNE else (None, place.code)
        where = f" in the département {departement}" if departement else ""
        if found.places:
            listed = ", ".join(p.label() for p in found.places[:10])
            return (
                f"{text!r} is the name of {len(found.places)} places{where}: {listed}; say which with a "
                "Département column, or as 'Saint-Denis (93)', or give its code"
            )
        if found.close:
            listed = ", ".join(p.label() for p in found.close)
            return f"no commune or EPCI is named {text!r}{where}; did you mean {listed}? Write it so, or give its code"
        return f"no commune or EPCI is named {text!r}{where}; give its INSEE code or SIREN"

    def departement_code(self, value: str) -> str:
        """A département's code, or its name when the file names places ("La Réunion")."""
        if self.places is not None and (code := self.places.departement(value)):
            return code
        return clean_departement_code(value)

    def place_codes(self, c: Cells) -> tuple[str | None, str | None]:
        found = self.place_found.get(c.row.line)
        if isinstance(found, str):
            c.fail("place", found)
            return None, None
        return found or (None, None)

    def missing_organisation(self, insee_code: str | None, siren: str | None) -> str:
        if insee_code and insee_code in self.reference_communes:
            name = self.reference_communes[insee_code]
            return f"{name} ({insee_code}) is not an organisation yet: import the organisations first"
        if insee_code:
            return (
                f"no commune has the INSEE code {insee_code}: a postal code? They differ (Saint-Denis: INSEE "
                "93066, postal code 93200); give the INSEE code, or the commune's name in a Commune column"
            )
        return f"no organisation has the SIREN {siren}; import the organisations first"

    def phone(self, c: Cells, warnings: list[tuple[str, str]]) -> str | None:
        phone, restored = c.parse("phone", clean_phone) or (None, False)
        if restored:
            warnings.append(
                (
                    "phone",
                    Reason(
                        f"{c.text('phone')!r} lost its leading 0 in a spreadsheet: read as {phone}",
                        "leading_zero_restored",
                        value=c.text("phone"),
                        phone=phone,
                    ),
                )
            )
        return phone

    def check_letters(self, c: Cells, columns: Iterable[str]) -> None:
        for column in columns:
            value = c.text(column)
            if value and lost_letters(value):
                c.fail(column, f"{value!r} {LOST_LETTER}")

    async def _prefetch_organisations(self, ids: set[UUID]) -> None:
        """The memberships and tags of organisations an organisations file names."""
        for chunk in _chunks(ids):
            for membership in await self.session.scalars(
                select(Membership).where(Membership.organisation_id.in_(chunk))
            ):
                self.membership_of[membership.organisation_id] = membership
        await self._prefetch_tags(ORGANISATION, list(ids))
        self.prefetched.update(ids)

    async def _prefetch_tags(self, entity_type: str, ids: list[UUID]) -> None:
        for chunk in _chunks(ids):
            for entity_id, names in (await tag_names_for(self.session, entity_type, chunk)).items():
                self.tags_of[entity_id] = {n.lower() for n in names}

    def email(self, raw: str) -> str:
        """`normalise_email`, once per address of the file (it is the slowest step of a row)."""
        known = self.emails.get(raw)
        if known is None:
            try:
                known = normalise_email(raw)
            except ValueError as exc:
                known = exc
            self.emails[raw] = known
        if isinstance(known, ValueError):
            raise ValueError(str(known))
        return known

    def first_seen(self, key: str, line: int) -> int | None:
        earlier = self.seen.get(key)
        if earlier is None:
            self.seen[key] = line
        return earlier

    def organisation_by_code(self, c: Cells, insee_code: str | None, siren: str | None, siren_column: str) -> Any:
        by_insee = self.by_insee.get(insee_code) if insee_code else None
        by_siren = self.by_siren.get(siren) if siren else None
        if by_insee and by_siren and by_insee.id != by_siren.id:
            c.fail(siren_column, f"belongs to {by_siren.name}, while the INSEE code is that of {by_insee.name}")
        return by_insee or by_siren

    # --- organisations -------------------------------------------------------------------------

    def first_row_of(self, c: Cells, record: Organisation | Person, label: str, column: str) -> None:
        """One line per record, however each line found it (id, code, e-mail or name)."""
        if (earlier := self.first_seen(f"record:{record.id}", c.row.line)) is not None:
            c.fail(
                column,
                Reason(f"{label} is also on line {earlier}: one line per record", "duplicate_line", line=earlier),
            )

    def check_codes(self, c: Cells, organisation: Organisation, insee_code: str | None, siren: str | None) -> None:
        """A row found by its id may repeat the organisation's official codes, not name others."""
        for column, what, code, stored, owners in (
            ("insee_code", "INSEE code", insee_code, organisation.insee_code, self.by_insee),
            ("siren", "SIREN", siren, organisation.siren, self.by_siren),
        ):
            if code is None or code == stored:
                continue
            owner = owners.get(code)
            if owner is not None:
                c.fail(column, f"{code} is the {what} of {owner.name}, not of {organisation.name} (this id)")
            else:
                has = f"has the {what} {stored}" if stored else f"has no {what}"
                c.fail(column, f"{organisation.name} (this id) {has}; an official code does not change")

    async def organisation_row(self, row: Row) -> Outcome:
        c = Cells(row)
        record_id = c.parse("id", parse_id)
        kind = c.parse("kind", lambda v: parse_choice(v, KIND_WORDS, "kind of organisation"))
        insee_code = c.parse("insee_code", clean_insee_code)
        siren = c.parse("siren", clean_siren)
        population = c.parse("population", parse_int)
        departement_code = c.parse("departement_code", self.departement_code)
        region_code = c.parse("region_code", clean_region_code)
        is_partner = c.parse("is_partner", parse_bool)
        status = c.parse("membership_status", lambda v: parse_choice(v, MEMBERSHIP_WORDS, "membership status"))
        member_since = c.parse("member_since", parse_date)
        tags = c.parse("tags", parse_tags) or []
        warnings: list[tuple[str, str]] = []
        phone = self.phone(c, warnings)
        self.check_letters(c, ("name", "address", "place"))
        if not insee_code and not siren and c.text("place"):
            insee_code, siren = self.place_codes(c)
        by_id = self.by_id.get(record_id) if record_id else None
        if record_id and by_id is None:
            c.fail("id", Reason("no organisation with this id", "unknown_id"))
        c.check()
        if kind is None:
            if by_id is not None:
                kind = by_id.kind.value
            elif insee_code:
                kind = OrganisationKind.COMMUNE.value
            elif siren:
                kind = OrganisationKind.EPCI.value
            else:
                c.fail("kind", Reason("required when there is neither an INSEE code nor a SIREN", "required"))
        for column, code in (("insee_code", insee_code), ("siren", siren)):
            if code and (earlier := self.first_seen(f"{column}:{code}", row.line)) is not None:
                c.fail(
                    column,
                    Reason(
                        f"{code} is also on line {earlier}: one line per organisation", "duplicate_line", line=earlier
                    ),
                )
        c.check()

        name = c.text("name")
        matched_on = "id"
        if by_id is not None:
            self.check_codes(c, by_id, insee_code, siren)
            existing: Organisation | None = by_id
        else:
            existing = self.organisation_by_code(c, insee_code, siren, "siren")
            matched_on = "insee_code" if existing is not None and existing.insee_code == insee_code else "siren"
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
                existing, matched_on = same_name[0], "name"
                if existing.id not in self.prefetched:
                    await self._prefetch_organisations({existing.id})
        if existing is not None and existing.kind.value != kind and c.text("kind"):
            c.fail("kind", f"{existing.name} is a {existing.kind.value}, not a {kind}")
        if by_id is None and existing is not None and siren and existing.siren and existing.siren != siren:
            c.fail("siren", f"{existing.name} has the SIREN {existing.siren}; a SIREN does not change")
        if existing is not None:
            self.first_row_of(c, existing, existing.name, matched_on)
        c.check()
        self.check_new_tags(tags, set() if existing is None else self.tags_of.get(existing.id, set()))

        official = kind in (OrganisationKind.COMMUNE.value, OrganisationKind.EPCI.value)
        fields: dict[str, Any] = {
            "name": c.text("name"),
            "population": population,
            "departement_code": departement_code,
            "region_code": region_code,
            "is_partner": is_partner,
            "email": c.text("email"),
            "phone": phone,
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
                if not _same(k, getattr(organisation, k), v)
            }
            if changes:
                data_changes = OrganisationUpdate(**{k: update.model_dump()[k] for k in changes})
                organisation = await self._service_call(
                    self.organisations.update_organisation(organisation.id, data_changes)
                )
            outcome = Outcome("update" if changes else "unchanged", organisation.name, changes)

        if status is not None or member_since is not None:
            await self._membership(organisation, status, member_since, outcome, new=existing is None)
        await self._tags(ORGANISATION, organisation.id, tags, outcome, new=existing is None)
        outcome.warnings = warnings
        if outcome.action == "unchanged" and outcome.changes:
            outcome.action = "update"
        return outcome

    async def _membership(
        self, organisation: Organisation, status: str | None, member_since: date | None, outcome: Outcome, *, new: bool
    ) -> None:
        membership = None if new else self.membership_of.get(organisation.id)
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
        warnings: list[tuple[str, str]] = []
        record_id = c.parse("id", parse_id)
        by_id = self.people_by_id.get(record_id) if record_id else None
        if record_id and by_id is None:
            c.fail("id", Reason("no person with this id", "unknown_id"))
        raw_email = c.text("email")
        email = None
        if raw_email is not None:
            try:
                email = self.email(raw_email)
            except ValueError as exc:
                c.fail("email", Reason(str(exc), "email", reason=str(exc)))
        insee_code = c.parse("organisation_insee_code", lambda v: clean_insee_code(v, "organisation_insee_code"))
        siren = c.parse("organisation_siren", lambda v: clean_siren(v, "organisation_siren"))
        kind = c.parse("position_kind", lambda v: parse_choice(v, POSITION_KIND_WORDS, "kind of position"))
        started_on = c.parse("position_started_on", parse_date)
        keep_positions = c.parse("keep_positions", parse_bool)
        tags = c.parse("tags", parse_tags) or []
        title = c.text("position_title")
        phone = self.phone(c, warnings)
        self.check_letters(c, ("first_name", "last_name", "position_title", "place"))
        from_place = not insee_code and not siren and bool(c.text("place"))
        if from_place:
            insee_code, siren = self.place_codes(c)
        if email and (earlier := self.first_seen(f"email:{email}", row.line)) is not None:
            c.fail(
                "email",
                Reason(f"{email} is also on line {earlier}: one line per person", "duplicate_line", line=earlier),
            )
        # Found on its id first, else on its e-mail address; a row with neither is a new person.
        by_email = self.people_by_email.get(email) if email else None
        if by_id is not None and by_email is not None and by_email.id != by_id.id:
            c.fail("email", f"{email} is the address of {_person_label(by_email)}, not of the person with this id")
        existing = by_id or by_email
        if email in self.erased:
            # The right to erasure outlives the data: only the address's hash remains, to refuse it.
            c.fail("email", Reason("this person's data was erased at their request: not imported again", "erased"))
        if existing is not None:
            self.first_row_of(c, existing, _person_label(existing), "id" if by_id is not None else "email")
        organisation = None
        if insee_code or siren:
            column = "place" if from_place else "organisation_insee_code" if insee_code else "organisation_siren"
            organisation = self.organisation_by_code(c, insee_code, siren, "organisation_siren")
            if organisation is None:
                c.fail(column, self.missing_organisation(insee_code, siren))
            if not title:
                c.fail("position_title", Reason("required with an organisation (maire, DGS, DSI...)", "required"))
        elif title or kind or started_on:
            c.fail(
                "organisation_insee_code",
                "a position needs its organisation: an INSEE code, a SIREN, or a commune's or EPCI's name",
            )
        c.check()

        fields: dict[str, Any] = {
            "first_name": c.text("first_name"),
            "last_name": c.text("last_name"),
            "phone": phone,
            "language": c.text("language"),
        }
        if by_id is not None and email is not None:
            fields["email"] = email  # found on its id, a person may get an address or change it
        sent = {k: v for k, v in fields.items() if v is not None}
        # `create_person` refuses an address another person has: the file's addresses were looked
        # up in one query beforehand, and the unique index stands behind that lookup.
        created: PersonCreate | None = None
        changes: dict[str, Any] = {}
        if existing is None:
            for required in ("first_name", "last_name"):
                if required not in sent:
                    c.fail(required, Reason("required for a new person", "required"))
            c.check()
            try:
                created = PersonCreate(email=email, **sent)
            except ValidationError as exc:
                raise RowRejected(_validation_errors(exc)) from exc
            person_id: UUID = uuid7()
        else:
            person_id = existing.id
            try:
                update = PersonUpdate(**sent)
            except ValidationError as exc:
                raise RowRejected(_validation_errors(exc)) from exc
            changes = {
                k: {"old": getattr(existing, k), "new": v}
                for k, v in update.model_dump(exclude_unset=True).items()
                if not _same(k, getattr(existing, k), v)
            }
        position: PositionCreate | None = None
        ending: list[tuple[Position, str]] = []  # positions this row ends, and how to say it
        if (
            organisation is not None
            and title
            and (existing is None or not self.holds(existing.id, organisation, title))
        ):
            if kind is None:
                kind, why = infer_kind(title, organisation.kind.value)
                if kind is None:
                    raise RowRejected([("position_kind", why)])
                warnings.append(("position_kind", why))
            try:
                position = PositionCreate(
                    person_id=person_id,
                    organisation_id=organisation.id,
                    title=title,
                    kind=PositionKind(kind),
                    started_on=started_on,
                )
            except ValidationError as exc:
                raise RowRejected(_validation_errors(exc, POSITION_FIELDS)) from exc
            ending = self.positions_to_end(c, existing, organisation, title, started_on, keep_positions)
        self.check_new_tags(tags, set() if existing is None else self.tags_of.get(existing.id, set()))

        # The row is good: from here on it writes.
        if created is not None:
            person = Person(id=person_id, **created.model_dump())
            self.session.add(person)
            outcome = Outcome("create", _person_label(person), dict(sent))
            if email is None:
                outcome.note = "no e-mail: a later import finds this person only by the id column of an export"
        else:
            assert existing is not None
            person = existing
            old_email = person.email
            if changes:
                person = await self._service_call(
                    self.people.update_person(person.id, PersonUpdate(**{k: v["new"] for k, v in changes.items()}))
                )
            if person.email != old_email:
                # Later rows find the person on the new address, and no longer on the old one.
                self.people_by_email.pop(old_email or "", None)
                self.people_by_email[person.email or ""] = person
            outcome = Outcome("update" if changes else "unchanged", _person_label(person), changes)
        outcome.warnings = warnings
        if position is not None:
            assert organisation is not None
            assert title is not None
            end_day = started_on or self.today
            ended = []
            for old, said in ending:
                old.ended_on = end_day
                ended.append(f"{said}, ended on {end_day.isoformat()}")
            # The person and the organisation were just found or created and the positions that
            # would overlap were ended above, so the checks of `create_position` hold.
            new = Position(**position.model_dump())
            self.session.add(new)
            self.positions_of[person_id].append(new)
            if seat := single_seat(title, organisation.kind.value):
                self.seat_holders[(organisation.id, seat)] = (new, row.line)
            outcome.changes["position"] = f"{title} ({kind}) at {organisation.name}"
            if ended:
                outcome.changes["ended_positions"] = ended
        await self._tags(PERSON, person_id, tags, outcome, new=existing is None)
        if outcome.action == "unchanged" and outcome.changes:
            outcome.action = "update"
        return outcome

    def positions_to_end(
        self,
        c: Cells,
        person: Person | None,
        organisation: Organisation,
        title: str,
        started_on: date | None,
        keep: bool | None,
    ) -> list[tuple[Position, str]]:
        """What a new position ends: the seat's previous holder (one maire per commune), and the
        person's other functions at that organisation unless the row says to keep them."""
        end_day = started_on or self.today
        ending: list[tuple[Position, str]] = []
        seat = single_seat(title, organisation.kind.value)
        if seat is not None and (held := self.seat_holders.get((organisation.id, seat))) is not None:
            holder, line = held
            if not holder.held_on(self.today):
                pass  # an earlier line of this file ended it already
            elif line:
                c.fail("position_title", f"line {line} already makes someone {holder.title} of {organisation.name}")
            elif person is None or holder.person_id != person.id:
                if holder.started_on is not None and holder.started_on > end_day:
                    c.fail(
                        "position_started_on",
                        f"{self.holder_names.get(holder.person_id, '')} is {holder.title} of {organisation.name} "
                        f"since {holder.started_on}, after {end_day}: give the date the new one starts",
                    )
                else:
                    name = self.holder_names.get(holder.person_id, "")
                    ending.append((holder, f"{holder.title} of {organisation.name} held by {name}"))
        if person is not None and not keep:
            for old in self.positions_of.get(person.id, ()):
                if old.organisation_id != organisation.id or not old.held_on(self.today):
                    continue
                if old.started_on is not None and old.started_on > end_day:
                    c.fail(
                        "position_started_on",
                        f"{_person_label(person)} is {old.title} there since {old.started_on}, after {end_day}; "
                        "give the date the new function starts, or keep both (a column Garder les autres "
                        "fonctions = oui)",
                    )
                    continue
                ending.append((old, f"{old.title} of {organisation.name}"))
        c.check()
        return ending

    def holds(self, person_id: UUID, organisation: Organisation, title: str) -> bool:
        """Whether the person holds this position (whatever its case) there today."""
        wanted = title.casefold()
        return any(
            p.organisation_id == organisation.id and p.title.casefold() == wanted and p.held_on(self.today)
            for p in self.positions_of.get(person_id, ())
        )

    # --- shared --------------------------------------------------------------------------------

    def check_new_tags(self, names: list[str], have: set[str]) -> None:
        """The names of tags to be created are checked before the row writes anything."""
        for name in names:
            if name.lower() in have or name.lower() in self.tag_ids:
                continue
            try:
                TagCreate(name=name)
            except ValidationError as exc:
                raise RowRejected([("tags", f"{name!r}: {e['msg']}") for e in exc.errors()]) from exc

    async def _tags(self, entity_type: str, entity_id: UUID, names: list[str], outcome: Outcome, *, new: bool) -> None:
        """Adds the tags listed (an import never removes a tag). The record was just found or
        created and does not carry the tag yet: the checks of `TagService.tag` hold."""
        if not names:
            return
        have = set() if new else set(self.tags_of.get(entity_id, ()))
        added = []
        for name in names:
            if name.lower() in have:
                continue
            have.add(name.lower())  # "Jury|jury" is one tag
            tag_id = await self._tag_id(name)
            self.session.add(Tagging(tag_id=tag_id, entity_type=entity_type, entity_id=entity_id))
            added.append(name)
        if added:
            outcome.changes["tags"] = added if new else {"added": added}

    async def _tag_id(self, name: str) -> UUID:
        key = tag_key(name)
        if key not in self.tag_ids:
            try:
                created = await self._service_call(self.tags.create_tag(TagCreate(name=name)), {"name": "tags"})
            except ValidationError as exc:
                raise RowRejected([("tags", f"{name!r}: {e['msg']}") for e in exc.errors()]) from exc
            self.tag_ids[key] = created.id
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


def _person_label(person: Person) -> str:
    name = f"{person.first_name} {person.last_name}"
    return f"{name} <{person.email}>" if person.email else name


def _same(column: str, stored: Any, new: Any) -> bool:
    """Whether a file's value says nothing new: "FRANÇOIS" or "FRANCOIS" in capitals is the stored
    "François", "06 12 34 56 78" is the stored "0612345678"."""
    if stored == new:
        return True
    if not isinstance(stored, str) or not isinstance(new, str):
        return False
    if column == "phone":
        return phone_digits(stored) == phone_digits(new)
    if column in ("first_name", "last_name", "name") and new.isupper():
        return words(stored) == words(new)
    return False


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return getattr(value, "value", value)


Progress = Callable[[int], Awaitable[None]]


async def _no_progress(_processed: int) -> None:
    return None


async def run_rows(
    session: AsyncSession, kind: str, rows: list[Row], meta: dict[str, Any], progress: Progress = _no_progress
) -> dict[str, Any]:
    """Runs every row through the services in the session's transaction; returns the report. The
    caller commits (an apply without errors) or rolls back (a dry run, or an apply with errors)."""
    run = _Run(session, kind)
    await run.prefetch(rows)
    errors: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    counts = {"create": 0, "update": 0, "unchanged": 0}
    samples: dict[str, list[dict[str, Any]]] = {"create": [], "update": [], "unchanged": []}
    since_flush: list[Row] = []
    for done, row in enumerate(rows, start=1):
        since_flush.append(row)
        try:
            if kind == ORGANISATIONS:
                async with session.begin_nested():
                    outcome = await run.organisation_row(row)
            else:
                outcome = await run.person_row(row)
        except RowRejected as exc:
            errors.extend({"line": row.line, "column": col, "why": str(why), **coded(why)} for col, why in exc.errors)
        else:
            counts[outcome.action] += 1
            warnings.extend(
                {"line": row.line, "column": col, "why": str(why), **coded(why)} for col, why in outcome.warnings
            )
            if len(samples[outcome.action]) < SAMPLE_SIZE:
                sample: dict[str, Any] = {"line": row.line, "label": outcome.label}
                if outcome.changes:
                    sample["changes"] = outcome.changes
                if outcome.note:
                    sample["note"] = outcome.note
                samples[outcome.action].append(sample)
        if done % PROGRESS_EVERY == 0 or done == len(rows):
            try:
                await session.flush()
            except DBAPIError as exc:
                # Only a concurrent change can get here (every rule was checked row by row): the
                # run stops, and the lines whose writes were refused are named.
                errors.append(
                    {
                        "line": since_flush[0].line,
                        "column": "",
                        "why": f"lines {since_flush[0].line} to {since_flush[-1].line}: the database refused "
                        f"them ({type(exc.orig).__name__}); the rest was not checked: check the file again",
                    }
                )
                break
            since_flush = []
            await progress(done)
    return {
        **meta,
        "kind": kind,
        "rows": len(rows),
        "errors": errors[:MAX_LISTED_ERRORS],
        "error_count": len(errors),
        "warnings": warnings[:MAX_LISTED_WARNINGS],
        "warning_count": len(warnings),
        "to_create": counts["create"],
        "to_update": counts["update"],
        "unchanged": counts["unchanged"],
        "first_to_create": samples["create"],
        "first_to_update": samples["update"],
        "first_unchanged": samples["unchanged"],
    }
