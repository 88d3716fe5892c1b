"""Starting a campaign (its deliveries written) and the worker's memory, as the audience grows.

For each audience size (10,000, 100,000 and 1,000,000 people subscribed to one list, 1 % of them
on the suppression list), in one run:

- **start**: `CampaignService.start()` on a fresh draft campaign: the audience frozen into
  `delivery` rows in one transaction (rolled back afterwards, so each run finds the same tables);
- **baseline COPY**: asyncpg `copy_records_to_table` of the same rows into `delivery`, with its
  indexes and foreign keys (also rolled back);
- **worker memory**: peak RSS (VmHWM) of a real `crm worker` process that sends the first
  `--send` messages of the campaign to a counting SMTP sink, beside a bare Python process that
  imports asyncpg and opens a connection (the least a worker could weigh).

    python bench/campaign_start.py                 # --sizes 10000,100000,1000000 --runs 3 --keep
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from _common import ROOT, bench_database, plain_url, settings_for
from sending import BLOCKS, free_port, run_sink

SUPPRESSED_EVERY = 100  # one person in a hundred is on the suppression list

SEED = """
WITH people AS (
    INSERT INTO person (id, first_name, last_name, email, language, created_at, updated_at)
    SELECT gen_random_uuid(), 'Prénom' || i, 'Lefèvre', 'bench' || i || '@ville-exemple.fr', 'fr', now(), now()
    FROM generate_series(1, $2::int) AS i
    RETURNING id
)
INSERT INTO subscription (id, person_id, list_id, status, legal_basis, source, consented_at, created_at, updated_at)
SELECT gen_random_uuid(), id, $1, 'subscribed', 'consent', 'bench', now(), now(), now() FROM people
"""
SUPPRESS = """
INSERT INTO suppression (id, email_hash, reason, created_at, updated_at)
SELECT gen_random_uuid(), encode(sha256(convert_to('bench' || i || '@ville-exemple.fr', 'UTF8')), 'hex'),
       'unsubscribed_all', now(), now()
FROM generate_series(1, $1::int, $2::int) AS i
"""
DELIVERY_COLUMNS = [
    "id",
    "campaign_id",
    "person_id",
    "email",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
    "updated_at",
]


async def seeded_list(url: str, size: int) -> uuid.UUID:
    """The bench list of `size` people, made once per database (server-side: a million people
    take a few minutes, mostly the person table's search index)."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        found = await conn.fetchval("SELECT id FROM mailing_list WHERE slug = 'bench-start'")
        if found is not None:
            return found
        list_id = uuid.uuid4()
        started = time.perf_counter()
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO mailing_list (id, name, slug, kind, is_public, double_opt_in, created_at, updated_at) "
                "VALUES ($1, 'La lettre', 'bench-start', 'newsletter', true, true, now(), now())",
                list_id,
            )
            await conn.execute(SEED, list_id, size)
            await conn.execute(SUPPRESS, size, SUPPRESSED_EVERY)
        await conn.execute("VACUUM ANALYZE")
        print(f"  seeded {size:,} people in {time.perf_counter() - started:.0f} s", flush=True)
        return list_id
    finally:
        await conn.close()


async def draft(url: str, list_id: uuid.UUID) -> uuid.UUID:
    from crm.domain.campaigns.services import CampaignService
    from crm.lib.services import alchemy_config, open_session

    config = alchemy_config(settings_for(url))
    async with open_session(config) as session:
        campaign = await CampaignService(session=session).create_campaign(
            {
                "name": "Bench",
                "subject": "La lettre des villes – novembre",
                "list_id": list_id,
                "from_name": "Association",
                "from_email": "lettre@example.org",
                "template": "newsletter",
                "content": BLOCKS,
                "kind": "newsletter",
            }
        )
        await session.flush()
        campaign_id = campaign.id
    await config.get_engine().dispose()
    return campaign_id


async def timed_start(url: str, campaign_id: uuid.UUID) -> tuple[float, int]:
    """Seconds to start the campaign, and deliveries written; rolled back."""
    from crm.domain.campaigns.services import CampaignService
    from crm.lib.services import alchemy_config

    settings = settings_for(url)
    config = alchemy_config(settings)
    try:
        async with config.get_session() as session:
            started = time.perf_counter()
            campaign = await CampaignService(session=session).start(campaign_id, settings)
            await session.flush()
            elapsed = time.perf_counter() - started
            queued = (campaign.audience_count or 0) - (campaign.suppressed_count or 0)
            await session.rollback()
    finally:
        await config.get_engine().dispose()
    return elapsed, queued


async def timed_copy(url: str, campaign_id: uuid.UUID, list_id: uuid.UUID) -> tuple[float, float]:
    """Seconds to COPY the same rows (built beforehand, not timed) into `delivery`, then into a
    table of the same columns without its indexes and foreign keys; rolled back."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        people = await conn.fetch(
            "SELECT p.id, p.email FROM person p JOIN subscription s ON s.person_id = p.id "
            "WHERE s.list_id = $1 AND s.status = 'subscribed' AND p.email IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM suppression x WHERE x.email_hash = encode(sha256(convert_to(lower(p.email), 'UTF8')), 'hex'))",
            list_id,
        )
        now = datetime.now(UTC)
        rows = [(uuid.uuid4(), campaign_id, p["id"], p["email"], "queued", 0, now, now, now) for p in people]
        del people
        seconds = []
        for table in ("delivery", "bare_delivery"):
            transaction = conn.transaction()
            await transaction.start()
            await conn.execute("CREATE TEMPORARY TABLE bare_delivery (LIKE delivery INCLUDING DEFAULTS)")
            started = time.perf_counter()
            await conn.copy_records_to_table(table, records=rows, columns=DELIVERY_COLUMNS)
            seconds.append(time.perf_counter() - started)
            await transaction.rollback()
        return seconds[0], seconds[1]
    finally:
        await conn.close()


def peak_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


BARE = """
import asyncio, sys, asyncpg
async def main():
    conn = await asyncpg.connect(sys.argv[1])
    await conn.fetchval("SELECT count(*) FROM delivery")
    print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0], flush=True)
    await conn.close()
asyncio.run(main())
"""


def bare_rss_kb(url: str) -> int:
    out = subprocess.run([sys.executable, "-c", BARE, plain_url(url)], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


async def worker_rss(url: str, campaign_id: uuid.UUID, send: int, root: str) -> tuple[int, int, float]:
    """Starts the campaign for good, runs one `crm worker` until `send` messages reached the sink;
    (peak RSS in kB, messages sent, seconds). The campaign is cancelled and its deliveries deleted
    afterwards."""
    from crm.domain.campaigns.queue import enqueue_send
    from crm.domain.campaigns.services import CampaignService
    from crm.lib.services import alchemy_config, open_session

    settings = settings_for(url)
    config = alchemy_config(settings)
    async with open_session(config) as session:
        await CampaignService(session=session).start(campaign_id, settings)
    await config.get_engine().dispose()

    port = free_port()
    counter: Any = multiprocessing.Value("q", 0)
    sink = multiprocessing.Process(target=run_sink, args=(port, counter), daemon=True)
    sink.start()
    redis_url = os.environ.get("CRM_REDIS_URL", "redis://127.0.0.1:6379/13")
    import redis as redis_lib
    from arq import create_pool
    from arq.connections import RedisSettings

    redis_lib.Redis.from_url(redis_url).flushdb()
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    await enqueue_send(pool, campaign_id, 2)
    await pool.aclose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        CRM_DATABASE_URL=url,
        CRM_REDIS_URL=redis_url,
        CRM_SMTP_URL=f"smtp://127.0.0.1:{port}",
        CRM_SENDING_SMTP_CONNECTIONS="10",
        CRM_SENDING_JOBS_PER_CAMPAIGN="2",
        CRM_LOG_LEVEL="WARNING",
    )
    started = time.perf_counter()
    worker = subprocess.Popen(  # noqa: ASYNC220 - started once, then polled
        [sys.executable, "-m", "crm.cli", "worker"],
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = 0
    try:
        deadline = time.monotonic() + 1800
        while counter.value < send and worker.poll() is None and time.monotonic() < deadline:
            peak = max(peak, peak_rss_kb(worker.pid))
            await asyncio.sleep(0.5)
        peak = max(peak, peak_rss_kb(worker.pid))
        sent = counter.value
        elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:  # arq waits for its running jobs: a long send is cut
            worker.kill()
            worker.wait(60)
        sink.terminate()
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute("DELETE FROM delivery WHERE campaign_id = $1", campaign_id)
        await conn.execute("UPDATE campaign SET status = 'cancelled' WHERE id = $1", campaign_id)
    finally:
        await conn.close()
    return peak, sent, elapsed


async def one_size(size: int, runs: int, keep: bool, send: int, root: str) -> None:
    print(f"audience {size:,}", flush=True)
    async with bench_database(f"start_{size}", keep=keep) as url:
        list_id = await seeded_list(url, size)
        starts, copies, bare_copies = [], [], []
        queued = 0
        for _ in range(runs):
            campaign_id = await draft(url, list_id)
            copy_seconds, bare_seconds = await timed_copy(url, campaign_id, list_id)
            start_seconds, queued = await timed_start(url, campaign_id)
            copies.append(copy_seconds)
            bare_copies.append(bare_seconds)
            starts.append(start_seconds)
            print(
                f"  run: start {start_seconds:.2f} s, COPY into delivery {copy_seconds:.2f} s (ratio "
                f"{start_seconds / copy_seconds:.2f}), COPY into a bare table {bare_seconds:.2f} s",
                flush=True,
            )
        if runs:
            start_m, copy_m, bare_m = (statistics.median(v) for v in (starts, copies, bare_copies))
            print(
                f"  start (median of {runs}): {start_m:.2f} s for {queued:,} deliveries "
                f"({queued / start_m:,.0f} rows/s); COPY into delivery {copy_m:.2f} s, start / COPY "
                f"{start_m / copy_m:.2f}; COPY into a bare table {bare_m:.2f} s, start / bare COPY {start_m / bare_m:.1f}",
                flush=True,
            )
        if send:
            bare = bare_rss_kb(url)
            campaign_id = await draft(url, list_id)
            peak, sent, elapsed = await worker_rss(url, campaign_id, min(send, size - size // SUPPRESSED_EVERY), root)
            print(
                f"  worker peak RSS {peak / 1024:.0f} MB after {sent:,} messages in {elapsed:.0f} s; "
                f"bare Python + asyncpg {bare / 1024:.0f} MB; worker / bare {peak / bare:.2f}",
                flush=True,
            )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases for the next run")
    parser.add_argument("--send", type=int, default=0, help="also run a worker until it has sent this many messages")
    parser.add_argument(
        "--worker-root", default=str(ROOT), help="run the worker from this checkout (to compare with another version)"
    )
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        await one_size(size, args.runs, args.keep, args.send, args.worker_root)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    asyncio.run(main())
