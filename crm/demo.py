"""Demo data: real French places from the reference geography, invented people.

`seed_demo()` gives a newcomer a network that looks like the real one: 450 member communes and
intercommunalities (mostly towns of 10,000 to 100,000 inhabitants, from every région, overseas
included), about 10,000 contacts with their positions, memberships and three years of dues, a fee
schedule, a board, partners and their conventions, label history since 2019, a few tags; and the
mailing and events side (`crm.demo_mailing`): lists and subscribers, publications, past campaigns,
last winter's ceremony and next autumn's congress.

Everything is drawn from one seeded random generator (and Faker seeded from it), so the same seed
over the same reference data gives the same data. The plan is built in Python first, then written
with bulk Core inserts (no ORM unit of work, hence no per-row audit entries: one "seed" entry says
what was added; the few records made through the domain services have their own entries). A
second run finds that entry and adds nothing.
"""

from __future__ import annotations

import random
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from faker import Faker
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from crm.config import Settings
from crm.db.audit_listener import record
from crm.db.models import (
    AuditEntry,
    BoardRole,
    Commune,
    Convention,
    ConventionStatus,
    Dues,
    DuesStatus,
    Epci,
    FeeBand,
    LabelAward,
    Mandate,
    Membership,
    MembershipStatus,
    MembershipStatusChange,
    Organisation,
    OrganisationKind,
    Person,
    Position,
    PositionKind,
    Renewal,
    Tag,
    Tagging,
)
from crm.demo_mailing import Contact, MailingPlan, plan_mailing, write_mailing
from crm.domain.atlaas.demo import ACTIONS as ATLAAS_ACTIONS
from crm.domain.atlaas.demo import seed_atlaas
from crm.domain.partners.demo import seed_partner_demo

DEFAULT_SEED = 2003  # the year the label was first awarded; any integer works
MEMBERS = 450
PEOPLE = 10_000
EPCI_MEMBERS = 50
BIG_TOWNS = 15  # over 100,000 inhabitants
SMALL_TOWNS = 25  # 3,000 to 10,000
PER_REGION = 3  # every région gets at least this many mid-sized members (when it has them)
LABEL_SINCE = 2019
GREEN_SINCE = 2021

# The fee schedule (barème): yearly dues by population band, before the yearly rise.
FEE_BANDS: tuple[tuple[int, int | None, int, str], ...] = (
    (0, 5_000, 150, "moins de 5 000 habitants"),
    (5_000, 10_000, 300, "5 000 à 9 999 habitants"),
    (10_000, 20_000, 600, "10 000 à 19 999 habitants"),
    (20_000, 50_000, 1_200, "20 000 à 49 999 habitants"),
    (50_000, 100_000, 2_400, "50 000 à 99 999 habitants"),
    (100_000, None, 4_800, "100 000 habitants et plus"),
)
FEE_RISE = Decimal("0.02")

# Positions: the key roles every member has, then a mix drawn for the others.
COMMUNE_KEY_ROLES = (
    ("Maire", PositionKind.ELECTED),
    ("Adjoint·e au numérique", PositionKind.ELECTED),
    ("Directeur·rice général·e des services (DGS)", PositionKind.STAFF),
    ("Directeur·rice des systèmes d'information (DSI)", PositionKind.STAFF),
    ("Chargé·e de communication", PositionKind.STAFF),
)
EPCI_KEY_ROLES = (
    ("Président·e", PositionKind.ELECTED),
    ("Vice-président·e au numérique", PositionKind.ELECTED),
    ("Directeur·rice général·e des services (DGS)", PositionKind.STAFF),
    ("Directeur·rice des systèmes d'information (DSI)", PositionKind.STAFF),
    ("Chargé·e de communication", PositionKind.STAFF),
)
OTHER_ELECTED = (
    "Adjoint·e à l'éducation",
    "Adjoint·e à la culture",
    "Adjoint·e aux finances",
    "Adjoint·e à la transition écologique",
    "Conseiller·e délégué·e au numérique",
    "Conseiller·e municipal·e",
    "Conseiller·e délégué·e à la démocratie participative",
)
OTHER_STAFF = (
    "Chef·fe de projet transformation numérique",
    "Délégué·e à la protection des données (DPO)",
    "Responsable SIG",
    "Conseiller·e numérique",
    "Responsable de la médiathèque",
    "Directeur·rice de cabinet",
    "Responsable open data",
    "Webmestre",
    "Chargé·e de mission ville intelligente",
    "Responsable de la sécurité des systèmes d'information (RSSI)",
    "Directeur·rice de l'éducation",
    "Technicien·ne informatique",
)
BOARD_ROLES = (
    [BoardRole.PRESIDENT]
    + [BoardRole.VICE_PRESIDENT] * 4
    + [BoardRole.TREASURER, BoardRole.SECRETARY]
    + [BoardRole.MEMBER] * 13
)

# Partners: (kind, name, e-mail domain). The first is the association of mid-sized towns whose
# convention is renewed every three years and whose president sits on the board.
PARTNERS: tuple[tuple[OrganisationKind, str, str], ...] = (
    (OrganisationKind.ASSOCIATION, "Association des villes moyennes de France", "villesmoyennes-asso.fr"),
    (OrganisationKind.STATE_AGENCY, "Agence nationale de la cohésion des territoires", "anct.gouv.fr"),
    (OrganisationKind.ASSOCIATION, "Réseau des territoires numériques solidaires", "territoires-solidaires.org"),
    (OrganisationKind.ASSOCIATION, "Association des DSI des collectivités", "dsi-collectivites.org"),
)

ORG_TAGS = ("Action cœur de ville", "Petites villes de demain", "Territoire d'industrie", "Ville universitaire")
PERSON_TAGS = ("Jury du label", "Groupe de travail cybersécurité", "Intervenant·e au congrès", "Réseau open data")
TAG_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


@dataclass(frozen=True, slots=True)
class Place:
    """A commune or an EPCI of the reference geography."""

    kind: OrganisationKind
    code: str  # INSEE code or SIREN
    name: str
    population: int | None
    departement_code: str | None
    region_code: str | None
    epci_siren: str | None = None
    epci_kind: str | None = None  # CC, CA, CU, ME


@dataclass
class DemoPlan:
    """Every row the seed will insert, table by table, in insert order."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    mailing: MailingPlan = field(default_factory=MailingPlan)

    def add(self, table: Any, row: dict[str, Any]) -> None:
        self.rows.setdefault(table.name, []).append(row)

    def count(self, table: Any) -> int:
        return len(self.rows.get(table.name, []))


@dataclass(frozen=True, slots=True)
class SeedResult:
    added: bool
    counts: dict[str, int]
    seconds: float

    def summary(self) -> str:
        if not self.added:
            return "Demo data already present: nothing added."
        c = self.counts
        return (
            f"Demo data seeded in {self.seconds:.1f} s: {c['membership']} member organisations, "
            f"{c['person']} people, {c['position']} positions, {c['mandate']} board mandates, "
            f"{c['dues']} dues, {c['label_award']} labels, {c['convention']} conventions, "
            f"{c['mailing_list']} mailing lists, {c['subscription']} subscriptions, {c['publication']} publications, "
            f"{c['campaign']} past campaigns, {c['event']} events, "
            f"{c.get('questionnaire_response', 0)} questionnaire answers (label applications and a survey), "
            f"{c['atlaas_action']} Atlaas actions."
        )


def slugify(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def _domain(place: Place) -> str:
    if place.kind == OrganisationKind.COMMUNE:
        return f"ville-{_short_slug(place.name)}.fr"
    short = re.sub(
        r"^(communaute (de communes|d'agglomeration|urbaine)|metropole)( (du|de la|des|de l'|de|d'))?\s*",
        "",
        unicodedata.normalize("NFKD", place.name).encode("ascii", "ignore").decode().lower(),
    )
    prefix = {"CC": "cc-", "CA": "agglo-", "CU": "cu-", "ME": "metropole-"}.get(place.epci_kind or "", "")
    return f"{prefix}{_short_slug(short)}.fr"


def _short_slug(text: str, limit: int = 40) -> str:
    slug = slugify(text)
    return slug if len(slug) <= limit else slug[:limit].rsplit("-", 1)[0]


# --- reading the reference geography -----------------------------------------------------------


async def load_places(session: AsyncSession) -> tuple[list[Place], list[Place]]:
    """Communes and EPCIs, in code order so that the draw is repeatable."""
    communes = [
        Place(
            OrganisationKind.COMMUNE,
            c.insee_code,
            c.name,
            c.population,
            c.departement_code,
            c.region_code,
            c.epci_siren,
        )
        for c in (await session.execute(select(Commune).where(Commune.kind == "COM").order_by(Commune.insee_code)))
        .scalars()
        .all()
    ]
    epcis = [
        Place(OrganisationKind.EPCI, e.siren, e.name, e.population, e.departement_code, e.region_code, None, e.kind)
        for e in (await session.execute(select(Epci).order_by(Epci.siren))).scalars().all()
    ]
    return communes, epcis


def choose_members(rng: random.Random, communes: Sequence[Place], epcis: Sequence[Place], total: int) -> list[Place]:
    """Mostly mid-sized towns, at least a few from every région (overseas included), some big
    cities, some small towns, and some intercommunalities (mostly agglomerations and métropoles)."""
    n_epci = min(EPCI_MEMBERS, total // 9)
    n_communes = total - n_epci
    mid = [c for c in communes if c.population is not None and 10_000 <= c.population <= 100_000]
    chosen: dict[str, Place] = {}
    regions = sorted({c.region_code for c in communes if c.region_code})
    for region in regions:
        pool = [c for c in mid if c.region_code == region]
        if not pool:  # Mayotte has no population figures: take its communes as they come
            pool = [c for c in communes if c.region_code == region]
        for place in rng.sample(pool, min(PER_REGION, len(pool))):
            chosen[place.code] = place
    big = [c for c in communes if c.population is not None and c.population > 100_000]
    small = [c for c in communes if c.population is not None and 3_000 <= c.population < 10_000]
    for pool, wanted in ((big, BIG_TOWNS), (small, SMALL_TOWNS)):
        for place in rng.sample(pool, min(wanted, len(pool))):
            chosen.setdefault(place.code, place)
    rest = [c for c in mid if c.code not in chosen]
    for place in rng.sample(rest, max(0, n_communes - len(chosen))):
        chosen[place.code] = place
    towns = sorted(chosen.values(), key=lambda p: p.code)[:n_communes]
    large_epcis = [e for e in epcis if e.epci_kind in ("CA", "CU", "ME")]
    rural_epcis = [e for e in epcis if e.epci_kind == "CC"]
    n_rural = n_epci // 10
    groups = rng.sample(large_epcis, min(n_epci - n_rural, len(large_epcis))) + rng.sample(rural_epcis, n_rural)
    return towns + sorted(groups, key=lambda p: p.code)


# --- building the plan -------------------------------------------------------------------------


def _date_between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _fee(population: int | None, year: int, base_year: int) -> Decimal:
    pop = population if population is not None else 10_000
    for low, high, amount, _label in FEE_BANDS:
        if pop >= low and (high is None or pop < high):
            rise = (1 + FEE_RISE) ** (year - base_year)
            return (Decimal(amount) * rise).quantize(Decimal("1.00"))
    raise AssertionError("the bands cover every population")


def _people_per_member(members: Sequence[Place], total: int) -> list[int]:
    """Bigger members have more contacts; the shares add up to `total` exactly."""
    weights = [
        25.0 if m.kind == OrganisationKind.EPCI else max(8.0, min(50.0, (m.population or 15_000) ** 0.5 / 6))
        for m in members
    ]
    scale = total / sum(weights)
    shares = [w * scale for w in weights]
    counts = [max(len(COMMUNE_KEY_ROLES), int(s)) for s in shares]
    order = sorted(range(len(members)), key=lambda i: shares[i] - int(shares[i]), reverse=True)
    i = 0
    while sum(counts) < total:
        counts[order[i % len(order)]] += 1
        i += 1
    while sum(counts) > total:
        j = max(range(len(counts)), key=lambda k: counts[k])
        counts[j] -= 1
    return counts


class _Planner:
    def __init__(self, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("fr_FR")
        self.fake.seed_instance(seed)
        self.today = today
        self.year = today.year
        self.plan = DemoPlan()
        self.emails: set[str] = set()

    def new_id(self) -> UUID:
        return uuid7()

    def email(self, first: str, last: str, domain: str) -> str:
        base = f"{slugify(first)}.{slugify(last)}".replace("-.", ".").strip(".")
        candidate = f"{base}@{domain}"
        n = 2
        while candidate in self.emails:
            candidate = f"{base}{n}@{domain}"
            n += 1
        self.emails.add(candidate)
        return candidate

    def person(self, domain: str) -> dict[str, Any]:
        female = self.rng.random() < 0.5
        first = self.fake.first_name_female() if female else self.fake.first_name_male()
        last = self.fake.last_name()
        row = {
            "id": self.new_id(),
            "first_name": first,
            "last_name": last,
            "email": self.email(first, last, domain),
            "phone": self.fake.phone_number() if self.rng.random() < 0.7 else None,
            "language": "fr",
        }
        self.plan.add(Person.__table__, row)
        return row

    def position(
        self, person_id: UUID, org_id: UUID, title: str, kind: PositionKind, started: date, ended: date | None = None
    ) -> None:
        self.plan.add(
            Position.__table__,
            {
                "id": self.new_id(),
                "person_id": person_id,
                "organisation_id": org_id,
                "title": title,
                "kind": kind,
                "started_on": started,
                "ended_on": ended,
            },
        )

    def organisation(self, place: Place) -> dict[str, Any]:
        domain = _domain(place)
        is_commune = place.kind == OrganisationKind.COMMUNE
        row = {
            "id": self.new_id(),
            "kind": place.kind,
            "name": place.name,
            "insee_code": place.code if is_commune else None,
            "siren": None if is_commune else place.code,
            "population": place.population,
            "departement_code": place.departement_code,
            "region_code": place.region_code,
            "epci_siren": place.epci_siren,
            "is_partner": False,
            "email": f"contact@{domain}",
            "phone": self.fake.phone_number(),
            "website": f"https://www.{domain}",
            "address": f"{'Hôtel de ville' if is_commune else 'Siège'}, {self.fake.street_address()}, {place.name}",
        }
        self.plan.add(Organisation.__table__, row)
        return row

    def membership(self, org_id: UUID) -> tuple[MembershipStatus, date | None, date | None]:
        """Mostly active; some lapsed (dues unpaid), resigned, or still prospects."""
        roll = self.rng.random()
        status = (
            MembershipStatus.ACTIVE
            if roll < 0.86
            else MembershipStatus.LAPSED
            if roll < 0.92
            else MembershipStatus.RESIGNED
            if roll < 0.96
            else MembershipStatus.PROSPECT
        )
        since = (
            None
            if status == MembershipStatus.PROSPECT
            else _date_between(self.rng, date(2003, 1, 1), date(self.year - 1, 12, 31))
        )
        ended = None
        if status == MembershipStatus.RESIGNED:
            assert since is not None
            ended = _date_between(self.rng, max(since + timedelta(days=365), date(self.year - 3, 1, 1)), self.today)
        membership_id = self.new_id()
        self.plan.add(
            Membership.__table__,
            {
                "id": membership_id,
                "organisation_id": org_id,
                "status": status,
                "member_since": since,
                "ended_on": ended,
            },
        )
        history: list[tuple[MembershipStatus, date, str | None]] = []
        if since is not None:
            history.append((MembershipStatus.ACTIVE, since, "Délibération d'adhésion"))
        if status == MembershipStatus.LAPSED:
            history.append((MembershipStatus.LAPSED, date(self.year - 1, 12, 31), "Cotisation non réglée"))
        elif status == MembershipStatus.RESIGNED:
            assert ended is not None
            history.append((MembershipStatus.RESIGNED, ended, "Courrier de résiliation"))
        elif status == MembershipStatus.PROSPECT:
            history.append(
                (MembershipStatus.PROSPECT, _date_between(self.rng, date(self.year - 1, 1, 1), self.today), None)
            )
        for st, on, note in history:
            self.plan.add(
                MembershipStatusChange.__table__,
                {"id": self.new_id(), "membership_id": membership_id, "status": st, "changed_on": on, "note": note},
            )
        return status, since, ended

    def dues(
        self, org_id: UUID, population: int | None, status: MembershipStatus, since: date | None, ended: date | None
    ) -> None:
        for year in range(self.year - 2, self.year + 1):
            if since is None or since.year > year or (ended is not None and ended.year < year):
                continue
            if status == MembershipStatus.LAPSED and year == self.year:
                continue
            invoiced = min(date(year, 2, 1) + timedelta(days=self.rng.randint(0, 20)), self.today)
            roll = self.rng.random()
            if status == MembershipStatus.LAPSED and year == self.year - 1:
                state = DuesStatus.INVOICED
            elif year == self.year:
                state = DuesStatus.PAID if roll < 0.55 else DuesStatus.INVOICED
            else:
                state = DuesStatus.WAIVED if roll < 0.03 else DuesStatus.INVOICED if roll < 0.07 else DuesStatus.PAID
            paid = (
                min(invoiced + timedelta(days=self.rng.randint(10, 120)), self.today)
                if state == DuesStatus.PAID
                else None
            )
            self.plan.add(
                Dues.__table__,
                {
                    "id": self.new_id(),
                    "organisation_id": org_id,
                    "year": year,
                    "amount": _fee(population, year, self.year - 2),
                    "status": state,
                    "invoiced_on": invoiced,
                    "paid_on": paid,
                    "notes": "Exonération votée par le bureau" if state == DuesStatus.WAIVED else None,
                },
            )

    def labels(self, org_id: UUID) -> None:
        """A run of yearly labels from some year since 2019, the level creeping up."""
        start = self.rng.randint(LABEL_SINCE, self.year - 1)
        level = self.rng.choice((1, 1, 2, 2, 3))
        green_city = self.rng.random() < 0.3
        for year in range(start, self.year):
            if year > start and self.rng.random() < 0.12:
                continue  # skipped a year
            green = green_city and year >= GREEN_SINCE and level >= 3
            self.plan.add(
                LabelAward.__table__,
                {"id": self.new_id(), "organisation_id": org_id, "year": year, "level": level, "green": green},
            )
            if self.rng.random() < 0.35:
                level = min(5, level + 1)

    def fee_schedule(self) -> None:
        for year in range(self.year - 2, self.year + 1):
            for low, high, _amount, label in FEE_BANDS:
                self.plan.add(
                    FeeBand.__table__,
                    {
                        "id": self.new_id(),
                        "year": year,
                        "min_population": low,
                        "max_population": high,
                        "amount": _fee(low, year, self.year - 2),
                        "label": label,
                    },
                )

    def staff_position_start(self) -> date:
        return _date_between(self.rng, date(2008, 1, 1), self.today - timedelta(days=30))

    def people_of(
        self, org: dict[str, Any], place: Place, count: int, members: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The key roles first, then a mix; some people came from another member (job change)."""
        domain = str(org["email"]).split("@", 1)[1]
        elected_since = date(2020, 7, 3) if place.kind == OrganisationKind.COMMUNE else date(2020, 7, 15)
        key_roles = COMMUNE_KEY_ROLES if place.kind == OrganisationKind.COMMUNE else EPCI_KEY_ROLES
        roles = list(key_roles)
        while len(roles) < count:
            if self.rng.random() < 0.4:
                roles.append((self.rng.choice(OTHER_ELECTED), PositionKind.ELECTED))
            else:
                roles.append((self.rng.choice(OTHER_STAFF), PositionKind.STAFF))
        people = []
        for raw_title, kind in roles[:count]:
            title = raw_title if place.kind == OrganisationKind.COMMUNE else _intercommunal(raw_title)
            person = self.person(domain)
            started = elected_since if kind == PositionKind.ELECTED else self.staff_position_start()
            self.position(person["id"], org["id"], title, kind, started)
            if kind == PositionKind.STAFF and members and self.rng.random() < 0.08:
                before = self.rng.choice(members)
                if before["id"] != org["id"]:
                    began = _date_between(self.rng, date(2005, 1, 1), started - timedelta(days=400))
                    self.position(person["id"], before["id"], title, kind, began, started - timedelta(days=1))
            people.append({"person": person, "title": title, "kind": kind})
        return people


def _intercommunal(title: str) -> str:
    """The same roles as in a commune, in the words of an intercommunality."""
    return title.replace("Adjoint·e", "Vice-président·e").replace("municipal·e", "communautaire")


def build_plan(
    communes: Sequence[Place],
    epcis: Sequence[Place],
    *,
    seed: int,
    today: date,
    members: int = MEMBERS,
    people: int = PEOPLE,
) -> DemoPlan:
    """Every row of the demo data, as plain dicts: a pure function of its arguments (ids aside)."""
    p = _Planner(seed, today)
    places = choose_members(p.rng, communes, epcis, members)
    partner_people = 4 * len(PARTNERS)
    counts = _people_per_member(places, people - partner_people)

    p.fee_schedule()
    orgs = [p.organisation(place) for place in places]
    staff_by_org: dict[UUID, list[dict[str, Any]]] = {}
    statuses: dict[UUID, MembershipStatus] = {}
    for org, place in zip(orgs, places, strict=True):
        status, since, ended = p.membership(org["id"])
        statuses[org["id"]] = status
        p.dues(org["id"], place.population, status, since, ended)
        if place.kind == OrganisationKind.COMMUNE and p.rng.random() < 0.6:
            p.labels(org["id"])
    for org, place, count in zip(orgs, places, counts, strict=True):
        staff_by_org[org["id"]] = p.people_of(org, place, count, orgs)

    # Partners, their contacts and conventions.
    partner_orgs = []
    for kind, name, domain in PARTNERS:
        org = {
            "id": p.new_id(),
            "kind": kind,
            "name": name,
            "insee_code": None,
            "siren": None,
            "population": None,
            "departement_code": "75",
            "region_code": "11",
            "epci_siren": None,
            "is_partner": True,
            "email": f"contact@{domain}",
            "phone": p.fake.phone_number(),
            "website": f"https://www.{domain}",
            "address": f"{p.fake.street_address()}, 75{p.rng.randint(1, 20):03d} Paris",
        }
        p.plan.add(Organisation.__table__, org)
        contacts = []
        for title in (
            "Président·e",
            "Délégué·e général·e",
            "Chargé·e de mission partenariats",
            "Chargé·e de communication",
        ):
            person = p.person(domain)
            kind_ = PositionKind.ELECTED if title == "Président·e" else PositionKind.STAFF
            p.position(person["id"], org["id"], title, kind_, p.staff_position_start())
            contacts.append(person)
        partner_orgs.append((org, contacts))
    _conventions(p, [org for org, _ in partner_orgs])

    # The board: heads of active members, and the partner association's president.
    active = [o for o in orgs if statuses[o["id"]] == MembershipStatus.ACTIVE]
    big_first = sorted(active, key=lambda o: -(o["population"] or 0))
    seats = p.rng.sample(big_first[:120], len(BOARD_ROLES) - 1)
    term_start = date(p.year - 1, 6, 15)
    for role, org in zip(BOARD_ROLES, seats, strict=False):
        holder = next(x for x in staff_by_org[org["id"]] if x["kind"] == PositionKind.ELECTED)
        p.plan.add(
            Mandate.__table__,
            {
                "id": p.new_id(),
                "person_id": holder["person"]["id"],
                "organisation_id": org["id"],
                "role": role,
                "term_start": term_start,
                "term_end": date(p.year + 2, 6, 14),
            },
        )
    partner, partner_contacts = partner_orgs[0]
    p.plan.add(
        Mandate.__table__,
        {
            "id": p.new_id(),
            "person_id": partner_contacts[0]["id"],
            "organisation_id": partner["id"],
            "role": BoardRole.MEMBER,
            "term_start": term_start,
            "term_end": date(p.year + 2, 6, 14),
        },
    )

    _tags(p, orgs, places, staff_by_org)

    # Drawn last, so that the rest of the network stays what it was before mail was seeded.
    in_file = (MembershipStatus.ACTIVE, MembershipStatus.LAPSED)
    mail_contacts = [
        Contact(x["person"]["id"], x["person"]["email"], x["title"], x["kind"] == PositionKind.ELECTED, member)
        for org in orgs
        for member in [statuses[org["id"]] in in_file]
        for x in staff_by_org[org["id"]]
    ]
    mail_contacts += [Contact(c["id"], c["email"], "", False, False) for _org, cs in partner_orgs for c in cs]
    p.plan.mailing = plan_mailing(p.rng, p.today, mail_contacts)
    return p.plan


def _conventions(p: _Planner, partners: list[dict[str, Any]]) -> None:
    # The association of mid-sized towns: signed in 2018, renewed tacitly every three years.
    start = date(2018, 1, 1)
    term_end = start
    while term_end <= p.today:
        term_end = date(term_end.year + 3, 1, 1)
    rows = [
        (
            partners[0],
            "Convention de partenariat pour le numérique dans les villes moyennes",
            ConventionStatus.ACTIVE,
            start,
            term_end - timedelta(days=1),
            Renewal.TACIT,
            90,
            36,
            "Co-organisation d'une journée annuelle ; siège au conseil d'administration ; échanges de données",
        ),
        (
            partners[1],
            "Convention d'objectifs : inclusion numérique et conseillers numériques",
            ConventionStatus.ACTIVE,
            date(p.year - 1, 3, 1),
            date(p.year + 1, 2, 28),
            Renewal.EXPLICIT,
            0,
            None,
            "Subvention annuelle ; restitution d'une enquête auprès des membres",
        ),
        (
            partners[2],
            "Convention de partenariat 2019-2021",
            ConventionStatus.EXPIRED,
            date(2019, 1, 1),
            date(2021, 12, 31),
            Renewal.EXPLICIT,
            0,
            None,
            None,
        ),
        (
            partners[3],
            "Convention d'échange de bonnes pratiques",
            ConventionStatus.DRAFT,
            None,
            None,
            Renewal.TACIT,
            60,
            12,
            None,
        ),
    ]
    for org, title, status, starts, ends, renewal, notice, term, commitments in rows:
        p.plan.add(
            Convention.__table__,
            {
                "id": p.new_id(),
                "organisation_id": org["id"],
                "title": title,
                "status": status,
                "signed_on": starts - timedelta(days=20) if starts else None,
                "starts_on": starts,
                "ends_on": ends,
                "renewal": renewal,
                "notice_period_days": notice,
                "renewal_term_months": term,
                "commitments": commitments,
            },
        )


def _tags(
    p: _Planner, orgs: list[dict[str, Any]], places: Sequence[Place], people: dict[UUID, list[dict[str, Any]]]
) -> None:
    tag_ids = {}
    for i, name in enumerate((*ORG_TAGS, *PERSON_TAGS)):
        tag_ids[name] = p.new_id()
        p.plan.add(Tag.__table__, {"id": tag_ids[name], "name": name, "color": TAG_COLORS[i % len(TAG_COLORS)]})

    def tag(name: str, entity_type: str, entity_id: UUID) -> None:
        p.plan.add(
            Tagging.__table__,
            {"id": p.new_id(), "tag_id": tag_ids[name], "entity_type": entity_type, "entity_id": entity_id},
        )

    for org, place in zip(orgs, places, strict=True):
        pop = place.population or 0
        if place.kind == OrganisationKind.COMMUNE and 20_000 <= pop <= 100_000 and p.rng.random() < 0.4:
            tag("Action cœur de ville", "organisation", org["id"])
        if place.kind == OrganisationKind.COMMUNE and pop < 20_000 and p.rng.random() < 0.5:
            tag("Petites villes de demain", "organisation", org["id"])
        if p.rng.random() < 0.08:
            tag("Territoire d'industrie", "organisation", org["id"])
        if pop > 50_000 and p.rng.random() < 0.3:
            tag("Ville universitaire", "organisation", org["id"])
    everyone = [x for xs in people.values() for x in xs]
    dsis = [x for x in everyone if "(DSI)" in x["title"] or "(RSSI)" in x["title"]]
    for x in p.rng.sample(dsis, min(40, len(dsis))):
        tag("Groupe de travail cybersécurité", "person", x["person"]["id"])
    for name, n in (("Jury du label", 15), ("Intervenant·e au congrès", 25), ("Réseau open data", 60)):
        for x in p.rng.sample(everyone, n):
            tag(name, "person", x["person"]["id"])


# --- writing it --------------------------------------------------------------------------------

INSERT_ORDER: tuple[Table, ...] = tuple(
    m.__table__  # type: ignore[misc]
    for m in (
        FeeBand,
        Organisation,
        Membership,
        MembershipStatusChange,
        Dues,
        LabelAward,
        Person,
        Position,
        Mandate,
        Convention,
        Tag,
        Tagging,
    )
)
MARKER_ENTITY = "demo"
BATCH = 2_000


async def already_seeded(session: AsyncSession) -> bool:
    marker = await session.scalar(
        select(AuditEntry.id).where(AuditEntry.action == "seed", AuditEntry.entity_type == MARKER_ENTITY).limit(1)
    )
    return marker is not None


async def seed_demo(
    session: AsyncSession,
    *,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    members: int = MEMBERS,
    people: int = PEOPLE,
    actions: int = ATLAAS_ACTIONS,
    settings: Settings | None = None,
) -> SeedResult:
    """Seeds the demo data in the session's transaction (the caller commits). Does nothing when
    it ran before (its audit entry is there) or when a chosen place or address already exists.
    `settings`: the sender of the past campaigns and the addresses of their archive copies."""
    started = time.perf_counter()
    if await already_seeded(session):
        return SeedResult(False, {}, time.perf_counter() - started)
    communes, epcis = await load_places(session)
    if not communes:
        raise RuntimeError("The reference geography is empty: run the migrations first")
    plan = build_plan(communes, epcis, seed=seed, today=today or date.today(), members=members, people=people)
    clash = await session.scalar(
        select(Organisation.id)
        .where(Organisation.insee_code.in_([r["insee_code"] for r in plan.rows["organisation"] if r["insee_code"]]))
        .limit(1)
    )
    if clash is not None:
        return SeedResult(False, {}, time.perf_counter() - started)
    for table in INSERT_ORDER:
        rows = plan.rows.get(table.name, [])
        for i in range(0, len(rows), BATCH):
            await session.execute(insert(table), rows[i : i + BATCH])
    await write_mailing(session, plan.mailing, settings or Settings())
    # Imported here: the questionnaires' demo plans from the rows above, and the demo's callers
    # that never seed (the CLI's other commands) don't load the questionnaire domain.
    from crm.demo_questionnaires import plan_questionnaires, write_questionnaires

    questionnaire_counts = await write_questionnaires(
        session, plan_questionnaires(plan.rows, seed, today or date.today())
    )
    counts = {table.name: plan.count(table) for table in INSERT_ORDER} | plan.mailing.counts() | questionnaire_counts
    counts["atlaas_action"] = await seed_atlaas(
        session, seed=seed, this_year=(today or date.today()).year, total=actions
    )
    # The partner API: the first partner (the convention in force) gets an API client.
    partner = next(r for r in plan.rows["organisation"] if r["is_partner"])
    counts["partner_sharing_consent"] = await seed_partner_demo(
        session, partner["id"], f"{partner['name']} — synchronisation"
    )
    counts["api_client"] = 1
    record(session, "seed", MARKER_ENTITY, None, seed=seed, **counts)
    await session.flush()
    return SeedResult(True, counts, time.perf_counter() - started)


async def seed_demo_database(
    settings: Settings, *, seed: int = DEFAULT_SEED, only_if_empty: bool = False
) -> SeedResult:
    """For the CLI: one session, one transaction. `only_if_empty` seeds only a database that has
    no organisation yet (what `crm up` wants: never mix demo data into real data)."""
    from crm.lib.services import alchemy_config, open_session

    config = alchemy_config(settings)
    try:
        async with open_session(config) as session:
            if only_if_empty and await session.scalar(select(Organisation.id).limit(1)) is not None:
                return SeedResult(False, {}, 0.0)
            return await seed_demo(session, seed=seed, settings=settings, actions=settings.demo_atlaas_actions)
    finally:
        await config.get_engine().dispose()
