"""How long importing 20,000 people from a CSV takes (dry run, then apply) through the import
service and the worker's job, beside the same rows inserted with plain SQL in the same run.

    python bench/import_people.py [--rows 20000]

The people hold a position at a member of the demo data (seeded when missing). The plain-SQL
baselines insert the same people and positions, with asyncpg's COPY and with executemany, inside
a transaction that is rolled back; the import then runs for real, and its rows are deleted at the
end (audit entries stay: use a scratch database, the default).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from _common import bench_database, ensure_demo, plain_url, settings_for
from faker import Faker
from uuid_utils.compat import uuid7

from crm.demo import slugify
from crm.domain.imports.services import ImportService, run_batch
from crm.lib.services import alchemy_config, open_session

TITLES = (
    ("Adjoint·e au numérique", "élu"),
    ("Conseiller·e municipal·e", "élu"),
    ("DSI", "agent"),
    ("Chargé·e de communication", "agent"),
    ("Chef·fe de projet numérique", "agent"),
)
DOMAIN = "bench.example"


def make_people(rows: int, communes: list[str]) -> list[dict[str, Any]]:
    fake = Faker("fr_FR")
    fake.seed_instance(42)
    rng = random.Random(42)
    people = []
    for i in range(rows):
        first, last = fake.first_name(), fake.last_name()
        title, kind = rng.choice(TITLES)
        people.append(
            {
                "first_name": first,
                "last_name": last,
                "email": f"{slugify(first)}.{slugify(last)}.{i}@{DOMAIN}",
                "phone": fake.phone_number(),
                "insee": rng.choice(communes),
                "title": title,
                "kind": kind,
                "started_on": date(2015 + rng.randint(0, 9), rng.randint(1, 12), rng.randint(1, 28)),
            }
        )
    return people


def as_csv(people: list[dict[str, Any]]) -> bytes:
    """As a French office would send it: semicolons, French headers, French dates, BOM."""
    lines = ["Prénom;Nom;Courriel;Téléphone;Code INSEE;Fonction;Type de fonction;Date de début"]
    for p in people:
        lines.append(
            ";".join(
                (
                    p["first_name"],
                    p["last_name"],
                    p["email"],
                    p["phone"],
                    p["insee"],
                    p["title"],
                    p["kind"],
                    p["started_on"].strftime("%d/%m/%Y"),
                )
            )
        )
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def sql_records(people: list[dict[str, Any]], org_ids: dict[str, Any]) -> tuple[list[tuple], list[tuple]]:
    now = datetime.now(UTC)
    persons, positions = [], []
    for p in people:
        person_id = uuid7()
        persons.append((person_id, p["first_name"], p["last_name"], p["email"].lower(), p["phone"], "fr", now, now))
        kind = "elected" if p["kind"] == "élu" else "staff"
        positions.append((uuid7(), person_id, org_ids[p["insee"]], p["title"], kind, p["started_on"], now, now))
    return persons, positions


PERSON_COLUMNS = ("id", "first_name", "last_name", "email", "phone", "language", "created_at", "updated_at")
POSITION_COLUMNS = ("id", "person_id", "organisation_id", "title", "kind", "started_on", "created_at", "updated_at")


async def baseline_copy(conn: asyncpg.Connection, persons: list[tuple], positions: list[tuple]) -> float:
    tx = conn.transaction()
    await tx.start()
    started = time.perf_counter()
    await conn.copy_records_to_table("person", records=persons, columns=PERSON_COLUMNS)
    await conn.copy_records_to_table("position", records=positions, columns=POSITION_COLUMNS)
    elapsed = time.perf_counter() - started
    await tx.rollback()
    return elapsed


async def baseline_executemany(conn: asyncpg.Connection, persons: list[tuple], positions: list[tuple]) -> float:
    tx = conn.transaction()
    await tx.start()
    started = time.perf_counter()
    await conn.executemany(
        f"INSERT INTO person ({', '.join(PERSON_COLUMNS)}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", persons
    )
    await conn.executemany(
        f"INSERT INTO position ({', '.join(POSITION_COLUMNS)}) VALUES ($1, $2, $3, $4, $5::position_kind, $6, $7, $8)",
        positions,
    )
    elapsed = time.perf_counter() - started
    await tx.rollback()
    return elapsed


async def main(rows: int) -> None:
    async with bench_database("import") as url:
        print(await ensure_demo(url))
        conn = await asyncpg.connect(plain_url(url))
        try:
            org_ids = dict(await conn.fetch("SELECT insee_code, id FROM organisation WHERE insee_code IS NOT NULL"))
            people = make_people(rows, sorted(org_ids))
            data = as_csv(people)
            persons, positions = sql_records(people, org_ids)
            copy_s = await baseline_copy(conn, persons, positions)
            many_s = await baseline_executemany(conn, persons, positions)
        finally:
            await conn.close()

        config = alchemy_config(settings_for(url))
        try:
            # What the API and the worker do, without the queue in between: the upload, then the job.
            started = time.perf_counter()
            async with open_session(config) as session:
                batch_id = (await ImportService(session=session).upload("people", "bench.csv", data, None)).id
            await run_batch(config, batch_id)
            check_s = time.perf_counter() - started
            async with open_session(config) as session:
                report = (await ImportService(session=session).get(batch_id)).report
            assert report["error_count"] == 0, report["errors"][:5]
            started = time.perf_counter()
            async with open_session(config) as session:
                await ImportService(session=session).request_apply(batch_id, None)
            await run_batch(config, batch_id)
            apply_s = time.perf_counter() - started
            async with open_session(config) as session:
                applied = await ImportService(session=session).get(batch_id)
                applied_report = applied.report
            assert applied.status == "applied", applied_report["errors"][:5]
        finally:
            await config.get_engine().dispose()

        conn = await asyncpg.connect(plain_url(url))
        try:
            imported = await conn.fetchval("SELECT count(*) FROM person WHERE email LIKE $1", f"%@{DOMAIN}")
            await conn.execute(
                "DELETE FROM position WHERE person_id IN (SELECT id FROM person WHERE email LIKE $1)", f"%@{DOMAIN}"
            )
            await conn.execute("DELETE FROM person WHERE email LIKE $1", f"%@{DOMAIN}")
            await conn.execute("DELETE FROM import_batch WHERE id = $1", batch_id)
        finally:
            await conn.close()

    print(f"CSV: {rows} people with a position each, {len(data) / 1e6:.1f} MB")
    print(f"dry run (check):  {check_s:7.2f} s  {rows / check_s:8.0f} rows/s  -> to_create {report['to_create']}")
    print(f"apply:            {apply_s:7.2f} s  {rows / apply_s:8.0f} rows/s  -> created {applied_report['to_create']}")
    print(f"SQL COPY:         {copy_s:7.2f} s  {rows / copy_s:8.0f} rows/s  (same people and positions)")
    print(f"SQL executemany:  {many_s:7.2f} s  {rows / many_s:8.0f} rows/s")
    print(f"ratio apply / COPY: {apply_s / copy_s:6.1f}x   apply / executemany: {apply_s / many_s:6.1f}x")
    print(f"ratio dry run / COPY: {check_s / copy_s:6.1f}x")
    assert imported == rows, f"{imported} people imported, {rows} expected"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    asyncio.run(main(parser.parse_args().rows))
