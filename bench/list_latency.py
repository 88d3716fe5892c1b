"""Median and 99th-percentile latency of a filtered, searched list of organisations and of people
over the demo data, through the real HTTP API (`crm serve`, uvicorn, in a subprocess; an httpx
client logged in as staff, one request at a time), beside the same queries in plain SQL (asyncpg,
prepared statements) in the same run.

    python bench/list_latency.py [--requests 300] [--seconds 60] [--people 100000 --keep]

`--people` seeds the demo data with that many people (10,000 by default) in a bench database of
its own; `--keep` keeps that database (`crm_bench_lists_<people>`) for the next run, since seeding
100,000 people takes a minute. After seeding, the tables are vacuumed and analysed, as autovacuum
would do after a bulk load. Each series stops after `--requests` requests or `--seconds` seconds,
whichever comes first. On a shared, noisy machine compare the API / SQL ratios of one run rather
than milliseconds across runs.

Needs Redis for the staff session (CRM_REDIS_URL, default redis://127.0.0.1:6379/14).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
from _common import bench_database, describe, ensure_demo, plain_url, settings_for

from crm.db.models.staff import Staff, StaffRole
from crm.embedded import free_port
from crm.lib.security import hash_password
from crm.lib.services import alchemy_config, open_session

BENCH_EMAIL = "bench.viewer@example.org"
PASSWORD = "bench password 123"
WORDS = ("saint", "mont", "ville", "sur", "port", "val", "bourg", "font")
NAMES = ("marie", "martin", "nico", "dubois", "laur", "pierre", "bern", "petit")

# The same rows and total as the API's lists: a page of 25 and the count.
ORGANISATIONS_SQL = """
SELECT o.*, count(*) OVER () AS total FROM organisation o
WHERE o.kind = 'commune' AND o.search_text LIKE '%' || (SELECT crm_search_text($1)) || '%'
  AND EXISTS (SELECT 1 FROM membership m WHERE m.organisation_id = o.id AND m.status = 'active')
ORDER BY similarity(o.search_text, (SELECT crm_search_text($1))) DESC, o.name LIMIT 25
"""
PEOPLE_SQL = """
SELECT p.*, count(*) OVER () AS total FROM person p
WHERE p.search_text LIKE '%' || (SELECT crm_search_text($1)) || '%'
  AND EXISTS (SELECT 1 FROM position s WHERE s.person_id = p.id AND s.kind = 'staff'
              AND (s.started_on IS NULL OR s.started_on <= current_date)
              AND (s.ended_on IS NULL OR s.ended_on > current_date))
ORDER BY similarity(p.search_text, (SELECT crm_search_text($1))) DESC, p.last_name, p.first_name LIMIT 25
"""


async def timed(n: int, seconds: float, call: Callable[[int], Awaitable[Any]]) -> list[float]:
    for i in range(min(20, n)):  # warm-up: pools, prepared statements, caches
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


async def vacuum_analyze(url: str) -> None:
    conn = await asyncpg.connect(plain_url(url))
    try:
        for table in ("organisation", "membership", "person", "position"):
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()


async def ensure_viewer(url: str) -> None:
    config = alchemy_config(settings_for(url))
    try:
        async with open_session(config) as session:
            from sqlalchemy import select

            if await session.scalar(select(Staff).where(Staff.email == BENCH_EMAIL)) is None:
                session.add(
                    Staff(email=BENCH_EMAIL, name="Bench", role=StaffRole.VIEWER, password_hash=hash_password(PASSWORD))
                )
    finally:
        await config.get_engine().dispose()


async def main(requests: int, seconds: float, people: int, keep: bool) -> None:
    async with bench_database(f"lists_{people}", keep=keep) as url:
        print(await ensure_demo(url, people))
        await vacuum_analyze(url)
        await ensure_viewer(url)
        results: dict[str, tuple[float, float]] = {}
        rows_seen: dict[str, int] = {}
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        env.update(
            CRM_DATABASE_URL=url,
            CRM_REDIS_URL=settings_for(url).redis_url,
            CRM_SECURITY_SECURE_COOKIES="false",
            CRM_LOG_LEVEL="WARNING",
        )
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "crm.cli", "serve", "--port", str(port), env=env, stdout=subprocess.DEVNULL
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                for _ in range(100):
                    try:
                        if (await client.get("/health/live")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.2)
                login = await client.post("/api/v1/auth/login", json={"email": BENCH_EMAIL, "password": PASSWORD})
                assert login.status_code == 201, login.text

                async def list_organisations(i: int) -> None:
                    params = {"q": WORDS[i % len(WORDS)], "kind": "commune", "membership_status": "active"}
                    response = await client.get("/api/v1/organisations", params=params)
                    assert response.status_code == 200, response.text
                    rows_seen["organisations"] = rows_seen.get("organisations", 0) + len(response.json()["items"])

                async def list_people(i: int) -> None:
                    params = {"q": NAMES[i % len(NAMES)], "kind": "staff"}
                    response = await client.get("/api/v1/people", params=params)
                    assert response.status_code == 200, response.text
                    rows_seen["people"] = rows_seen.get("people", 0) + len(response.json()["items"])

                results["API organisations"] = describe(await timed(requests, seconds, list_organisations))
                results["API people"] = describe(await timed(requests, seconds, list_people))
        finally:
            server.terminate()
            await asyncio.wait_for(server.wait(), 30)

        conn = await asyncpg.connect(plain_url(url))
        try:
            org_stmt = await conn.prepare(ORGANISATIONS_SQL)
            people_stmt = await conn.prepare(PEOPLE_SQL)

            async def sql_organisations(i: int) -> None:
                await org_stmt.fetch(WORDS[i % len(WORDS)])

            async def sql_people(i: int) -> None:
                await people_stmt.fetch(NAMES[i % len(NAMES)])

            results["SQL organisations"] = describe(await timed(requests, seconds, sql_organisations))
            results["SQL people"] = describe(await timed(requests, seconds, sql_people))
        finally:
            await conn.close()

    print(f"{people} people; up to {requests} requests or {seconds:.0f} s per series (after 20 warm-up), page of 25")
    print(f"{'':20} {'median ms':>10} {'p99 ms':>10}")
    for name, (median, p99) in results.items():
        print(f"{name:20} {median:10.2f} {p99:10.2f}")
    for what in ("organisations", "people"):
        api, sql = results[f"API {what}"], results[f"SQL {what}"]
        print(f"ratio API / SQL, {what}: median {api[0] / sql[0]:5.1f}x, p99 {api[1] / sql[1]:5.1f}x")
    print(f"(rows seen: {', '.join(f'{k} {v}' for k, v in rows_seen.items())})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per series, at most")
    parser.add_argument("--seconds", type=float, default=60, help="seconds per series, at most")
    parser.add_argument("--people", type=int, default=10_000, help="people in the demo data")
    parser.add_argument("--keep", action="store_true", help="keep the bench database for the next run")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.seconds, args.people, args.keep))
