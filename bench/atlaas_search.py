"""Atlaas search latency: a French full-text search with two facets over 30,000 and 300,000 actions.

Per catalogue size, one request at a time, after 20 warm-up requests:
- **API**: `GET /api/v1/atlaas/actions?q=...&region=...&theme=...` through the app in process
  (Litestar's test client: routing, validation, the service, JSON; no network);
- **service**: the service's search alone (page + total and every facet's counts, SQLAlchemy);
- **SQL page**: the page's query alone, prepared, in plain asyncpg (the baseline);
- **SQL page + facets**: the page and the facet query (total and every facet count), in asyncpg:
  the difference with the page alone is the cost of the facet counts.

The 300,000 are the demo's 30,000 (seeded when missing) and nine copies of each, years shifted,
inserted by one INSERT ... SELECT and deleted at the end (with `--keep`, kept for the next run).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from _common import bench_database, describe, ensure_demo, plain_url, settings_for

from crm.domain.atlaas import search

WORDS = (
    "médiathèque",
    "école numérique",
    "open data",
    "tiers-lieux",
    "cybersécurité",
    "wifi public",
    "seniors",
    "budget participatif",
    "conseillers numériques",
    "fibre",
)
COPIES = 9
COPY_MARK = "bench copy"  # in `results`, to find and delete the copies


def asyncpg_sql(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """The service's SQL with `:name` parameters as asyncpg's `$n`."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"(?<![:\w]):([a-z_]+)", number, sql), [params[n] for n in names]


async def timed(n: int, seconds: float, call: Callable[[int], Awaitable[Any]]) -> list[float]:
    for i in range(min(20, n)):
        await call(i)
    durations: list[float] = []
    deadline = time.perf_counter() + seconds
    for i in range(n):
        started = time.perf_counter()
        await call(i)
        durations.append(time.perf_counter() - started)
        if started > deadline:
            break
    return durations


async def facet_values(conn: asyncpg.Connection) -> tuple[list[str], list[str]]:
    """The five régions with most actions, and the four axes: the facets the queries use."""
    regions = [
        r["v"]
        for r in await conn.fetch(
            "SELECT v, count(*) FROM atlaas_action, unnest(region_codes) v GROUP BY v ORDER BY 2 DESC LIMIT 5"
        )
    ]
    axes = [str(r["id"]) for r in await conn.fetch("SELECT id FROM atlaas_theme WHERE level = 1 ORDER BY name")]
    return regions, axes


def filters_for(i: int, regions: list[str], axes: list[str]) -> search.Filters:
    return search.Filters(
        q=WORDS[i % len(WORDS)], facets={"region": regions[i % len(regions)], "theme": axes[(i // 3) % len(axes)]}
    )


async def measure(url: str, requests: int, seconds: float) -> tuple[dict[str, tuple[float, float]], float]:
    from litestar.testing import AsyncTestClient
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from crm.app import create_app
    from crm.config import to_asyncpg_url

    conn = await asyncpg.connect(plain_url(url))
    results: dict[str, tuple[float, float]] = {}
    totals: list[int] = []
    try:
        regions, axes = await facet_values(conn)

        async def sql_page(i: int) -> None:
            sql, params = search.page_sql(filters_for(i, regions, axes))
            text, args = asyncpg_sql(sql, params | {"limit": 20, "offset": 0})
            await conn.fetch(text, *args)

        async def sql_page_and_facets(i: int) -> None:
            await sql_page(i)
            sql, params = search.facets_sql(filters_for(i, regions, axes))
            text, args = asyncpg_sql(sql, params)
            rows = await conn.fetch(text, *args)
            totals.append(next(r[2] for r in rows if r[0] == "total"))

        results["SQL page"] = describe(await timed(requests, seconds, sql_page))
        results["SQL page + facets"] = describe(await timed(requests, seconds, sql_page_and_facets))
    finally:
        await conn.close()

    engine = create_async_engine(to_asyncpg_url(url), pool_size=2)
    try:
        async with AsyncSession(engine) as session:

            async def service(i: int) -> None:
                await search.search(session, filters_for(i, regions, axes), 20, 0)

            results["service"] = describe(await timed(requests, seconds, service))
    finally:
        await engine.dispose()

    app = create_app(settings_for(url))
    async with AsyncTestClient(app=app) as client:

        async def api(i: int) -> None:
            f = filters_for(i, regions, axes)
            response = await client.get("/api/v1/atlaas/actions", params={"q": f.q, **f.facets})
            assert response.status_code == 200, response.text

        results["API"] = describe(await timed(requests, seconds, api))
    mean_total = sum(totals) / max(1, len(totals))
    return results, mean_total


async def add_copies(url: str) -> int:
    conn = await asyncpg.connect(plain_url(url))
    try:
        if await conn.fetchval("SELECT count(*) FROM atlaas_action WHERE results = $1", COPY_MARK):
            return 0
        columns = [
            r["attname"]
            for r in await conn.fetch(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'atlaas_action'::regclass AND attnum > 0 "
                "AND NOT attisdropped AND attgenerated = '' AND attname NOT IN ('id', 'year', 'results')"
            )
        ]
        listed = ", ".join(columns)
        status = await conn.execute(
            f"INSERT INTO atlaas_action (id, year, results, {listed}) "
            f"SELECT gen_random_uuid(), 2014 + (a.year - 2014 + g) % 13, $1, {', '.join('a.' + c for c in columns)} "
            f"FROM atlaas_action a CROSS JOIN generate_series(1, {COPIES}) g",
            COPY_MARK,
        )
        await conn.execute("VACUUM ANALYZE atlaas_action")
        return int(status.split()[-1])
    finally:
        await conn.close()


async def drop_copies(url: str) -> None:
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute("DELETE FROM atlaas_action WHERE results = $1", COPY_MARK)
        await conn.execute("VACUUM ANALYZE atlaas_action")
    finally:
        await conn.close()


async def main(requests: int, seconds: float, keep: bool) -> None:
    async with bench_database("atlaas", keep=keep) as url:
        print(await ensure_demo(url))
        conn = await asyncpg.connect(plain_url(url))
        await conn.execute("VACUUM ANALYZE atlaas_action")
        await conn.close()
        figures = {}
        await drop_copies(url)
        figures["30,000"] = await measure(url, requests, seconds)
        started = time.perf_counter()
        added = await add_copies(url)
        print(f"{added} copies inserted in {time.perf_counter() - started:.0f} s")
        figures["300,000"] = await measure(url, requests, seconds)
        if not keep:
            await drop_copies(url)

    print(f"\nOne request at a time, up to {requests} per series or {seconds:.0f} s (after 20 warm-up); page of 20;")
    print("a French query with two facets (région, axe), rotating over 10 queries, 5 régions, 4 axes.")
    for size, (results, mean_total) in figures.items():
        print(f"\n{size} actions (mean results per query: {mean_total:.0f})")
        print(f"{'':22} {'median ms':>10} {'p99 ms':>10}")
        for name, (median, p99) in results.items():
            print(f"{name:22} {median:10.2f} {p99:10.2f}")
        page, full = results["SQL page"], results["SQL page + facets"]
        api = results["API"]
        print(
            f"facet counts cost (SQL page + facets / SQL page): median {full[0] / page[0]:.1f}x, p99 {full[1] / page[1]:.1f}x"
        )
        print(f"API / SQL page + facets: median {api[0] / full[0]:.1f}x, p99 {api[1] / full[1]:.1f}x")


if __name__ == "__main__":
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per series, at most")
    parser.add_argument("--seconds", type=float, default=30, help="seconds per series, at most")
    parser.add_argument("--keep", action="store_true", help="keep the bench database (and the copies) for the next run")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.seconds, args.keep))
