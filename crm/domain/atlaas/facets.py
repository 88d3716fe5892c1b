"""What the facets count and how they read, and the one statement that computes an action's
denormalised facet columns from its places, organisations and themes.

The facet columns are written by `refresh` only, after any change to an action's links (a staff
edit, an accepted proposal, an import, the demo): one UPDATE for one action or for thousands."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.organisation import OrganisationKind

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


def _band_sql(column: str) -> str:
    cases = " ".join(f"WHEN {column} >= {floor} THEN {band}" for band, floor, _ in reversed(POPULATION_BANDS))
    return f"CASE {cases} END"


# Places, with the commune's latest label level (0 without one); organisation kinds; the chosen
# themes with their ancestors (the tree has four levels, so three parents at most).
REFRESH = f"""
UPDATE atlaas_action AS a SET
  insee_codes = coalesce(pl.codes, '{{}}'),
  departement_codes = coalesce(pl.departements, '{{}}'),
  region_codes = coalesce(pl.regions, '{{}}'),
  population_bands = coalesce(pl.bands, '{{}}'),
  label_levels = coalesce(pl.levels, '{{}}'),
  place_text = coalesce(pl.names, ''),
  organisation_kinds = coalesce(og.kinds, '{{}}'),
  theme_ids = coalesce(th.ids, '{{}}'),
  theme_text = coalesce(th.names, ''),
  tools_text = array_to_string(a.tools || a.providers, ' ')
FROM atlaas_action AS s
LEFT JOIN LATERAL (
  SELECT array_agg(c.insee_code ORDER BY c.insee_code) AS codes,
         array_agg(DISTINCT c.departement_code) AS departements,
         array_agg(DISTINCT c.region_code) AS regions,
         array_remove(array_agg(DISTINCT ({_band_sql("c.population")})::smallint), NULL) AS bands,
         array_agg(DISTINCT coalesce(lv.level, 0)::smallint) AS levels,
         string_agg(c.name || ' (' || c.departement_code || ')', ', ' ORDER BY c.name) AS names
  FROM atlaas_action_place AS p
  JOIN ref_commune AS c ON c.insee_code = p.insee_code
  LEFT JOIN LATERAL (
    SELECT la.level FROM organisation AS o JOIN label_award AS la ON la.organisation_id = o.id
    WHERE o.insee_code = c.insee_code ORDER BY la.year DESC LIMIT 1
  ) AS lv ON true
  WHERE p.action_id = s.id
) AS pl ON true
LEFT JOIN LATERAL (
  SELECT array_agg(DISTINCT o.kind::text) AS kinds
  FROM atlaas_action_organisation AS ao JOIN organisation AS o ON o.id = ao.organisation_id
  WHERE ao.action_id = s.id
) AS og ON true
LEFT JOIN LATERAL (
  SELECT array_agg(DISTINCT up.id) AS ids, string_agg(DISTINCT up.name, ' ') AS names
  FROM atlaas_action_theme AS at
  JOIN atlaas_theme AS t1 ON t1.id = at.theme_id
  LEFT JOIN atlaas_theme AS t2 ON t2.id = t1.parent_id
  LEFT JOIN atlaas_theme AS t3 ON t3.id = t2.parent_id
  LEFT JOIN atlaas_theme AS t4 ON t4.id = t3.parent_id
  CROSS JOIN LATERAL (VALUES (t1.id, t1.name), (t2.id, t2.name), (t3.id, t3.name), (t4.id, t4.name)) AS up(id, name)
  WHERE at.action_id = s.id AND up.id IS NOT NULL
) AS th ON true
WHERE a.id = s.id
"""


async def refresh(session: AsyncSession, action_ids: Sequence[UUID] | None = None) -> None:
    """Computes the facet columns (and the search text they feed) of these actions, or of all."""
    if action_ids is None:
        await session.execute(text(REFRESH))
    elif action_ids:
        await session.execute(text(REFRESH + " AND s.id = ANY(CAST(:ids AS uuid[]))"), {"ids": list(action_ids)})
