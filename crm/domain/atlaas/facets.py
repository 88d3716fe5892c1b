"""What the facets count and how they read, and the one function that computes an action's
denormalised facet columns from its places, organisations and themes (`columns`).

Every write of an action (a staff edit, an accepted proposal, an import, the demo) computes them
before the row is written: a bulk insert writes each row once, with its search document, instead
of inserting then updating thousands of rows under their GIN indexes. A city's label level is the
one it had when the action was last written."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.atlaas import Theme
from crm.db.models.label import LabelAward
from crm.db.models.organisation import Organisation, OrganisationKind
from crm.db.models.reference import Commune

# Population bands (strates de population) of the action's communes, by their lower bound.
POPULATION_BANDS: tuple[tuple[int, int, str], ...] = (
    (1, 0, "moins de 2 000 habitants"),
    (2, 2_000, "2 000 à 9 999 habitants"),
    (3, 10_000, "10 000 à 49 999 habitants"),
    (4, 50_000, "50 000 à 99 999 habitants"),
    (5, 100_000, "100 000 habitants et plus"),
)
BAND_LABELS = {band: label for band, _, label in POPULATION_BANDS}
LABEL_LEVELS = {0: "non labellisée"} | {
    level: f"{'@' * level} ({level} arobase{'s' if level > 1 else ''})" for level in range(1, 6)
}
ORGANISATION_KINDS = {
    OrganisationKind.COMMUNE.value: "commune",
    OrganisationKind.EPCI.value: "intercommunalité",
    OrganisationKind.DEPARTEMENT.value: "département",
    OrganisationKind.REGION.value: "région",
    OrganisationKind.ASSOCIATION.value: "association",
    OrganisationKind.COMPANY.value: "entreprise",
    OrganisationKind.STATE_AGENCY.value: "service de l’État",
    OrganisationKind.OTHER.value: "autre",
}
THEME_LEVELS = {1: "axe", 2: "enjeu", 3: "usage", 4: "service"}


def population_band(population: int | None) -> int | None:
    if population is None:
        return None
    return max(band for band, floor, _ in POPULATION_BANDS if population >= floor)


@dataclass(frozen=True, slots=True)
class Lookups:
    """What the facet columns of a batch of actions are computed from, read once per batch."""

    communes: dict[str, tuple[str, str, str, int | None]]  # code -> name, département, région, population
    label_levels: dict[str, int]  # commune code -> its latest label level
    organisation_kinds: dict[UUID, str]
    themes: dict[UUID, tuple[UUID | None, str]]  # id -> parent, name


async def lookups(session: AsyncSession, codes: Iterable[str], organisation_ids: Iterable[UUID]) -> Lookups:
    codes, organisation_ids = list(set(codes)), list(set(organisation_ids))
    communes = {
        code: (name, dep, reg, pop)
        for code, name, dep, reg, pop in await session.execute(
            select(
                Commune.insee_code, Commune.name, Commune.departement_code, Commune.region_code, Commune.population
            ).where(Commune.insee_code.in_(codes))
        )
    }
    latest = (
        select(Organisation.insee_code, LabelAward.level)
        .join(LabelAward, LabelAward.organisation_id == Organisation.id)
        .where(Organisation.insee_code.in_(codes))
        .order_by(Organisation.insee_code, LabelAward.year.desc())
        .ext(distinct_on(Organisation.insee_code))
    )
    kinds = await session.execute(
        select(Organisation.id, Organisation.kind).where(Organisation.id.in_(organisation_ids))
    )
    themes = await session.execute(select(Theme.id, Theme.parent_id, Theme.name))
    return Lookups(
        communes=communes,
        label_levels={code: level for code, level in await session.execute(latest) if code is not None},
        organisation_kinds={i: k.value for i, k in kinds},
        themes={i: (parent, name) for i, parent, name in themes},
    )


def columns(
    places: Sequence[str],
    organisation_ids: Sequence[UUID],
    theme_ids: Sequence[UUID],
    tools: Sequence[str],
    providers: Sequence[str],
    found: Lookups,
) -> dict[str, Any]:
    """The facet columns of one action: one value per place, organisation or theme (and the
    themes' ancestors), with the texts the search reads."""
    known = sorted((found.communes[c], c) for c in dict.fromkeys(places) if c in found.communes)
    bands = {population_band(pop) for (_, _, _, pop), _ in known}
    ancestry: dict[UUID, str] = {}
    for theme_id in theme_ids:
        node: UUID | None = theme_id
        while node is not None and node in found.themes and node not in ancestry:
            parent, name = found.themes[node]
            ancestry[node] = name
            node = parent
    return {
        "insee_codes": sorted(c for _, c in known),
        "departement_codes": sorted({dep for (_, dep, _, _), _ in known}),
        "region_codes": sorted({reg for (_, _, reg, _), _ in known}),
        "population_bands": sorted(b for b in bands if b is not None),
        "label_levels": sorted({found.label_levels.get(c, 0) for _, c in known}),
        "place_text": ", ".join(f"{name} ({dep})" for (name, dep, _, _), _ in known),
        "organisation_kinds": sorted(
            {found.organisation_kinds[o] for o in organisation_ids if o in found.organisation_kinds}
        ),
        "theme_ids": sorted(ancestry),
        "theme_text": " ".join(sorted(set(ancestry.values()))),
        "tools_text": " ".join([*tools, *providers]),
    }
