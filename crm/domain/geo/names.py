"""Communes and EPCIs found by their names, as staff type them.

Staff files often say "Saint-Denis (93)", "St Etienne", "Le Mans", "CA du Grand Annecy" or "Lyon
Métropole" and no code. Names are folded (case, accents, punctuation, "St"/"Ste", articles and
little words, the kinds of EPCI to CC/CA/CU) before they are compared; a name that matches none
gets the close spellings as proposals, never an answer; a name many places share (there are
several Saint-Denis) lists them, unless a département narrows it to one.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.reference import Commune, Departement, Epci
from crm.lib.words import words

COMMUNE = "commune"
EPCI = "epci"
_LITTLE = frozenset({"le", "la", "les", "l", "de", "du", "des", "d", "en", "et"})
_SAINT = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_EPCI_KINDS = (
    (("communaute", "communes"), "cc"),
    (("communaute", "agglomeration"), "ca"),
    (("communaute", "urbaine"), "cu"),
    (("agglomeration",), "ca"),
    (("agglo",), "ca"),
)
_KIND_WORDS = frozenset({"cc", "ca", "cu", "metropole", "eurometropole"})
_HINT = re.compile(r"\(\s*([0-9]{1,3}|2[AaBb])\s*\)\s*$")
CLOSE_CUTOFF = 0.85


@dataclass(frozen=True, slots=True)
class Place:
    kind: str  # commune or epci
    code: str  # INSEE code or SIREN
    name: str
    departement_code: str | None

    def label(self) -> str:
        return f"{self.name} ({self.departement_code or '?'}, {self.code})"


def _tokens(text: str) -> list[str]:
    tokens = [_SAINT.get(w, w) for w in words(text) if w not in _LITTLE]
    for pattern, short in _EPCI_KINDS:
        size = len(pattern)
        for i in range(len(tokens) - size + 1):
            if tuple(tokens[i : i + size]) == pattern:
                tokens[i : i + size] = [short]
                break
    return tokens


def place_key(text: str) -> str:
    return " ".join(_tokens(text))


def split_hint(text: str) -> tuple[str, str | None]:
    """ "Saint-Denis (93)" is the name and the département it is in."""
    match = _HINT.search(text)
    if not match:
        return text, None
    code = match.group(1).upper()
    return text[: match.start()].strip(), code.zfill(2) if code.isdigit() and len(code) == 1 else code


@dataclass
class Found:
    places: list[Place] = field(default_factory=list)
    close: list[Place] = field(default_factory=list)  # proposals when nothing matched

    @property
    def one(self) -> Place | None:
        return self.places[0] if len(self.places) == 1 else None


class Gazetteer:
    def __init__(self, places: list[Place], departements: dict[str, str]) -> None:
        self.exact: dict[str, list[Place]] = defaultdict(list)
        self.epci_core: dict[str, list[Place]] = defaultdict(list)  # "grand annecy" for "CA du Grand Annecy"
        self.epci_words: dict[str, list[Place]] = defaultdict(list)  # "lyon metropole" for "Métropole de Lyon"
        self.by_letter: dict[str, list[str]] = defaultdict(list)
        self.departements = {place_key(name): code for code, name in departements.items()}
        self.departement_codes = set(departements)
        for place in places:
            tokens = _tokens(place.name)
            key = " ".join(tokens)
            self.exact[key].append(place)
            if place.kind == EPCI:
                core = [t for t in tokens if t not in _KIND_WORDS]
                self.epci_core[" ".join(core)].append(place)
                self.epci_words[" ".join(sorted(tokens))].append(place)
        for key in self.exact:
            if key:
                self.by_letter[key[0]].append(key)

    def knows(self, text: str) -> bool:
        name, _ = split_hint(text)
        return bool(self.exact.get(place_key(name)))

    def departement(self, text: str | None) -> str | None:
        """A département's code from its code or its name ("93", "Seine-Saint-Denis")."""
        if not text:
            return None
        raw = text.strip().upper()
        code = raw.zfill(2) if raw.isdigit() and len(raw) == 1 else raw
        if code in self.departement_codes:
            return code
        return self.departements.get(place_key(text))

    def find(self, text: str, departement: str | None = None) -> Found:
        name, hint = split_hint(text)
        departement = self.departement(departement) or hint
        tokens = _tokens(name)
        key = " ".join(tokens)
        for index, lookup in (
            (self.exact, key),
            (self.epci_core, key),
            (self.epci_words, " ".join(sorted(tokens))),
        ):
            matches = index.get(lookup)
            if matches:
                return Found(places=_narrow(matches, departement))
        close = difflib.get_close_matches(key, self.by_letter.get(key[:1], []), n=5, cutoff=CLOSE_CUTOFF)
        proposals = [p for k in close for p in self.exact[k]]
        return Found(close=_narrow(proposals, departement) or proposals)


def _narrow(places: list[Place], departement: str | None) -> list[Place]:
    if departement is None or len(places) == 1:
        return list(places)
    return [p for p in places if p.departement_code == departement]


_gazetteer: Gazetteer | None = None


async def gazetteer(session: AsyncSession) -> Gazetteer:
    """The reference geography's names. It only changes with a migration, so each process reads
    it once."""
    global _gazetteer
    if _gazetteer is None:
        communes = await session.execute(
            select(Commune.insee_code, Commune.name, Commune.departement_code).where(Commune.kind == "COM")
        )
        epcis = await session.execute(select(Epci.siren, Epci.name, Epci.departement_code))
        departements = dict((await session.execute(select(Departement.code, Departement.name))).all())
        places = [Place(COMMUNE, code, name, dep) for code, name, dep in communes] + [
            Place(EPCI, siren, name, dep) for siren, name, dep in epcis
        ]
        _gazetteer = Gazetteer(places, departements)
    return _gazetteer
