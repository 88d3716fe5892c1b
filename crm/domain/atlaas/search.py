"""The Atlaas search: French full-text search over the stored `search_document`, facet filters on
the denormalised arrays, a page of results best first, and every facet's counts with the total.

Two statements per search: the page, then the total and all facet counts at once (the matching
rows are read once into a materialised CTE, then counted per facet). Facet counts are over the
current search and filters ("drill-down"): a value's count is the total the search would have with
that value added to the filters.

Forgiving like the CRM's other searches (crm/lib/search.py splits what is typed the same way):
accents and case are ignored and French words are stemmed by the `crm_french` configuration
("médiathèques" finds "Médiathèque", "lieux" finds "lieu"); each typed word must appear, the last
one as a word or the start of one ("numér" finds "numérique"), so results narrow as one types."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.atlaas import SEARCH_CONFIG, ActionStatus
from crm.lib.search import words

# Only letters and digits reach to_tsquery: its operators (& | ! : * ( ) < >) typed by a visitor
# would otherwise make the query fail or mean something else.
_NOT_WORD = re.compile(r"[^\w]+")

# facet name -> (column, SQL type of one value, whether the column is an array)
FACETS: dict[str, tuple[str, str, bool]] = {
    "theme": ("theme_ids", "uuid", True),
    "region": ("region_codes", "varchar", True),
    "departement": ("departement_codes", "varchar", True),
    "population_band": ("population_bands", "smallint", True),
    "year": ("year", "integer", False),
    "label_level": ("label_levels", "smallint", True),
    "organisation_kind": ("organisation_kinds", "varchar", True),
}


@dataclass(frozen=True, slots=True)
class Filters:
    """A search: the words typed, and at most one value per facet (checked at the edge)."""

    q: str | None = None
    facets: dict[str, Any] = field(default_factory=dict)
    # None: every status (staff lists); the public side always asks for published actions.
    status: ActionStatus | None = ActionStatus.PUBLISHED


def _forms(word: str) -> list[str]:
    """The word with its singular or plural: the French stemmer keeps some apart ("lieux" is not
    "lieu", "locaux" not "local", "conseillers" not "conseiller"), and a prefix of the plural does
    not find the singular."""
    forms = [word]
    lower = word.lower()
    if len(word) > 4 and lower.endswith("aux"):
        forms.append(word[:-3] + "al")
    elif len(word) > 3 and lower.endswith(("s", "x")):
        forms.append(word[:-1])
    elif len(word) > 3:
        # and the other way: "conseiller" stems to "conseil" but "conseillers" to "conseiller"
        forms.append(word[:-2] + "aux" if lower.endswith("al") else word + "s")
    return forms


def ts_query(q: str | None) -> str | None:
    """The to_tsquery text of what was typed: every word (or its singular), the last one also as
    the start of a word (what is being typed)."""
    if not q:
        return None
    parts = [w for w in (_NOT_WORD.sub("", word) for word in words(q)) if w]
    # Only the last word may be unfinished: a prefix match reads many more index entries
    # ("numer:*" at 300,000 actions costs several times "numer").
    return (
        " & ".join(
            "(" + " | ".join(f"{f}:*" if i == len(parts) - 1 else f for f in _forms(w)) + ")"
            for i, w in enumerate(parts)
        )
        or None
    )


def where(filters: Filters) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of a search and its parameters, as plain SQL: the service and the
    benchmark's plain-SQL baseline run the very same text."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if filters.status is not None:
        clauses.append("status = CAST(:status AS atlaas_action_status)")
        params["status"] = filters.status.value
    query = ts_query(filters.q)
    if query:
        clauses.append(f"search_document @@ to_tsquery('{SEARCH_CONFIG}', :tsq)")
        params["tsq"] = query
    for name, value in filters.facets.items():
        if value is None:
            continue
        column, sql_type, is_array = FACETS[name]
        if is_array:
            clauses.append(f"{column} @> ARRAY[CAST(:f_{name} AS {sql_type})]")
        else:
            clauses.append(f"{column} = CAST(:f_{name} AS {sql_type})")
        params[f"f_{name}"] = str(value) if isinstance(value, UUID) else value
    return (" AND ".join(clauses) or "true"), params


def page_sql(filters: Filters) -> tuple[str, dict[str, Any]]:
    clause, params = where(filters)
    if "tsq" in params:
        # ts_rank_cd favours words close together; the weights favour the title (A) and subtitle,
        # places and themes (B) over the long texts.
        order = f"ts_rank_cd(search_document, to_tsquery('{SEARCH_CONFIG}', :tsq)) DESC, year DESC, id"
    else:
        order = "year DESC, id"
    sql = (
        "SELECT id, title, subtitle, year, synthesis, status, place_text, insee_codes, theme_ids "
        f"FROM atlaas_action WHERE {clause} ORDER BY {order} LIMIT :limit OFFSET :offset"
    )
    return sql, params


def facets_sql(filters: Filters) -> tuple[str, dict[str, Any]]:
    clause, params = where(filters)
    columns = ", ".join(column for column, _, _ in FACETS.values())
    parts = ["SELECT 'total' AS facet, '' AS value, count(*) AS n FROM hits"]
    for name, (column, _, is_array) in FACETS.items():
        if is_array:
            parts.append(f"SELECT '{name}', v::text, count(*) FROM hits, unnest(hits.{column}) AS v GROUP BY v")
        else:
            parts.append(f"SELECT '{name}', {column}::text, count(*) FROM hits GROUP BY {column}")
    sql = f"WITH hits AS MATERIALIZED (SELECT {columns} FROM atlaas_action WHERE {clause}) " + " UNION ALL ".join(parts)
    return sql, params


@dataclass
class Found:
    items: list[dict[str, Any]]
    total: int
    # facet -> [(value as text, count)], most frequent first
    facets: dict[str, list[tuple[str, int]]]


async def search(
    session: AsyncSession, filters: Filters, limit: int, offset: int, *, with_facets: bool = True
) -> Found:
    sql, params = page_sql(filters)
    rows = (await session.execute(text(sql), params | {"limit": limit, "offset": offset})).mappings().all()
    items = [dict(r) for r in rows]
    if not with_facets:
        total = await count(session, filters)
        return Found(items, total, {})
    counts = await facet_counts(session, filters)
    total = counts.pop("total", [("", 0)])[0][1]
    return Found(items, total, counts)


async def count(session: AsyncSession, filters: Filters) -> int:
    clause, params = where(filters)
    return int(await session.scalar(text(f"SELECT count(*) FROM atlaas_action WHERE {clause}"), params) or 0)


async def facet_counts(session: AsyncSession, filters: Filters) -> dict[str, list[tuple[str, int]]]:
    sql, params = facets_sql(filters)
    counts: dict[str, list[tuple[str, int]]] = {name: [] for name in FACETS}
    for facet, value, n in (await session.execute(text(sql), params)).all():
        counts.setdefault(facet, []).append((value, int(n)))
    for values in counts.values():
        values.sort(key=lambda pair: (-pair[1], pair[0]))
    return counts


async def all_ids(session: AsyncSession, filters: Filters, limit: int) -> Sequence[UUID]:
    """The ids of a search's results in its order, for an export."""
    sql, params = page_sql(filters)
    return (await session.execute(text(sql), params | {"limit": limit, "offset": 0})).scalars().all()
