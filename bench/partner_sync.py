"""Contacts per second through the partner API: push (batches of 500, new contacts then the same
again unchanged), full listing and incremental changes (pages of 500), each beside a plain SQL
baseline doing the same work on the same database in the same run.

    python bench/partner_sync.py [--contacts 10000]

The API runs in process (Litestar's ASGI test client: no network, one request at a time), so the
figures are the server's own cost. Baselines (asyncpg): push = one `INSERT ... SELECT unnest(...)`
per 500 people and their partner links in a transaction; listing = the same shared-contacts query
paged by id; changes = the change log joined to people, paged by sequence. On a shared, noisy
machine compare the API / SQL ratios of one run rather than contacts/s across runs.

Needs Redis for the per-key rate limit (CRM_REDIS_URL, default redis://127.0.0.1:6379/14).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from typing import Any

import asyncpg
from _common import bench_database, plain_url, settings_for

BATCH = 500
SQL_PUSH = """
WITH people AS (
    INSERT INTO person (id, first_name, last_name, email, language, created_at, updated_at)
    SELECT id, f, l, e, 'fr', now(), now() FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS t(id, f, l, e)
    RETURNING id
)
INSERT INTO partner_contact (id, organisation_id, person_id, external_id, legal_basis, source, created_at, updated_at)
SELECT gen_random_uuid(), $5, p.id, 'sql-' || p.id, 'legitimate_interest', 'bench', now(), now() FROM people p
"""
SQL_LIST = """
SELECT p.id, pc.external_id, p.first_name, p.last_name, p.email, p.phone, p.language, p.updated_at
FROM person p
JOIN partner_sharing_consent c ON c.person_id = p.id AND c.withdrawn_at IS NULL
LEFT JOIN partner_contact pc ON pc.person_id = p.id AND pc.organisation_id = $1
WHERE p.id > $2 ORDER BY p.id LIMIT $3
"""
SQL_CHANGES = """
SELECT ch.seq, p.id, p.first_name, p.last_name, p.email, p.phone, p.language, p.updated_at
FROM contact_change ch JOIN person p ON p.id = ch.person_id
WHERE ch.seq > $1 ORDER BY ch.seq LIMIT $2
"""


def contacts(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "external_id": f"vm-{i}",
            "email": f"acteur{i}@ville-exemple.fr",
            "first_name": f"Prénom{i}",
            "last_name": "Lefèvre",
            "legal_basis": "legitimate_interest",
            "source": "annuaire",
        }
        for i in range(start, start + n)
    ]


async def run(url: str, n: int) -> None:
    from litestar.testing import AsyncTestClient
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from crm.app import create_app
    from crm.db.models.convention import Convention, ConventionStatus, Renewal
    from crm.db.models.organisation import Organisation, OrganisationKind
    from crm.domain.partners.schemas import ApiClientCreate
    from crm.domain.partners.services import ApiClientService

    settings = settings_for(url)
    settings.partner.rate_limit = 10_000_000
    engine = create_async_engine(settings.database_url)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        org = Organisation(kind=OrganisationKind.ASSOCIATION, name="Villes moyennes (bench)", is_partner=True)
        session.add(org)
        await session.flush()
        session.add(
            Convention(organisation_id=org.id, title="Bench", status=ConventionStatus.ACTIVE, renewal=Renewal.EXPLICIT)
        )
        made = await ApiClientService(session=session).create_client(
            ApiClientCreate(organisation_id=org.id, name="bench", scopes=["contacts:read", "contacts:write"])
        )
        await session.commit()
    await engine.dispose()
    headers = {"Authorization": f"Bearer {made.key}"}
    conn = await asyncpg.connect(plain_url(url))
    figures: dict[str, tuple[float, float]] = {}
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            # Push: new contacts, then the same batches again (all unchanged).
            rows = contacts(n)
            for label in ("push (new)", "push (unchanged)"):
                started = time.perf_counter()
                for i in range(0, n, BATCH):
                    answer = await client.post(
                        "/api/v1/partner/contacts/batch",
                        json={"contacts": rows[i : i + BATCH]},
                        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                    )
                    assert answer.status_code == 200, answer.text
                api = n / (time.perf_counter() - started)
                tx = conn.transaction()
                await tx.start()
                started = time.perf_counter()
                for i in range(0, n, BATCH):
                    ids = [uuid.uuid4() for _ in range(min(BATCH, n - i))]
                    await conn.execute(
                        SQL_PUSH,
                        ids,
                        [f"P{j}" for j in range(len(ids))],
                        ["Lefèvre"] * len(ids),
                        [f"sql{i + j}@ville-exemple.fr" for j in range(len(ids))],
                        org.id,
                    )
                sql = n / (time.perf_counter() - started)
                await tx.rollback()
                figures[label] = (api, sql)

            await conn.execute(
                "INSERT INTO partner_sharing_consent (id, person_id, legal_basis, source, consented_at, created_at, "
                "updated_at) SELECT gen_random_uuid(), id, 'consent', 'bench', now(), now(), now() FROM person"
            )
            await conn.execute("VACUUM ANALYZE")

            # Full listing.
            started, cursor, seen = time.perf_counter(), None, 0
            while True:
                page = (
                    await client.get(
                        "/api/v1/partner/contacts",
                        params={"limit": BATCH, **({"cursor": cursor} if cursor else {})},
                        headers=headers,
                    )
                ).json()
                seen += len(page["items"])
                cursor = page["next_cursor"]
                if cursor is None:
                    token = page["sync_token"]
                    break
            api = seen / (time.perf_counter() - started)
            started, after, sql_seen = time.perf_counter(), uuid.UUID(int=0), 0
            while True:
                got = await conn.fetch(SQL_LIST, org.id, after, BATCH)
                sql_seen += len(got)
                if len(got) < BATCH:
                    break
                after = got[-1]["id"]
            figures["pull (full listing)"] = (api, sql_seen / (time.perf_counter() - started))

            # Changes: every contact edited once.
            last_seq = await conn.fetchval("SELECT coalesce(max(seq), 0) FROM contact_change")
            await conn.execute("UPDATE person SET phone = '+33 1 00 00 00 00'")
            started, changed = time.perf_counter(), 0
            while True:
                page = (
                    await client.get(
                        "/api/v1/partner/contacts/changes",
                        params={"sync_token": token, "limit": BATCH},
                        headers=headers,
                    )
                ).json()
                changed += len(page["items"])
                token = page["sync_token"]
                if not page["has_more"]:
                    break
            api = changed / (time.perf_counter() - started)
            started, after, sql_seen = time.perf_counter(), last_seq, 0
            while True:
                got = await conn.fetch(SQL_CHANGES, after, BATCH)
                sql_seen += len(got)
                if len(got) < BATCH:
                    break
                after = got[-1]["seq"]
            figures["pull (changes)"] = (api, sql_seen / (time.perf_counter() - started))
            assert changed == seen, (changed, seen)
    finally:
        await conn.close()

    print(f"\n{n:,} contacts, batches and pages of {BATCH}")
    print(f"{'':22}{'API contacts/s':>16}{'SQL contacts/s':>16}{'API / SQL':>11}")
    for label, (api, sql) in figures.items():
        print(f"{label:22}{api:16,.0f}{sql:16,.0f}{api / sql:11.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    args = parser.parse_args()
    async with bench_database("partners") as url:
        await run(url, args.contacts)


if __name__ == "__main__":
    asyncio.run(main())
