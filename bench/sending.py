"""Sending a 20,000-recipient campaign end to end, beside the raw SMTP rate measured in the same run.

- the sink: an aiosmtpd server in its own process that only counts messages;
- baseline: aiosmtplib sending prebuilt messages of the same size to that sink over the same
  number of connections (no database, no rendering): the most the engine could reach;
- engine: one real `crm worker` process sending the campaign (claim, render, build, SMTP, record
  each answer), timed from the send until the campaign is finished, with its peak memory;
- render cost: the per-message cost of rendering and building a message, in this process.

    python bench/sending.py --recipients 20000 --connections 10
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import psutil
from _common import ROOT, bench_database, plain_url

BLOCKS = {
    "blocks": [
        {"type": "heading", "text": "La lettre des villes numériques – novembre"},
        *[
            {
                "type": "text",
                "text": "Bonjour {{ first_name }},\n\n" + "Des nouvelles du réseau et de ses membres. " * 40,
            }
            for _ in range(4)
        ],
        {"type": "button", "label": "Lire le rapport", "url": "https://example.org/rapport?annee=2026"},
    ]
}


def run_sink(port: int, counter: object) -> None:
    from aiosmtpd.controller import Controller

    class Count:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            with counter.get_lock():  # type: ignore[attr-defined]
                counter.value += 1  # type: ignore[attr-defined]
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    while True:
        time.sleep(3600)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def baseline(port: int, messages: list[bytes], connections: int) -> float:
    import aiosmtplib

    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for m in messages:
        queue.put_nowait(m)

    async def lane() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
        await client.connect()
        while not queue.empty():
            data = queue.get_nowait()
            await client.sendmail("lettre@example.org", ["x@ville-exemple.fr"], data)
        await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(connections)))
    return len(messages) / (time.perf_counter() - started)


async def make_campaign(url: str, recipients: int) -> str:
    conn = await asyncpg.connect(plain_url(url))
    try:
        list_id, now = uuid.uuid4(), datetime.now(UTC)
        await conn.execute(
            "INSERT INTO mailing_list (id, name, slug, kind, is_public, double_opt_in, created_at, updated_at) "
            "VALUES ($1, 'La lettre', $2, 'newsletter', true, true, $3, $3)",
            list_id,
            f"bench-{list_id.hex[:8]}",
            now,
        )
        people = [
            (uuid.uuid4(), f"Prénom{i}", "Lefèvre", f"bench{i:06d}-{list_id.hex[:6]}@ville-exemple.fr", "fr", now, now)
            for i in range(recipients)
        ]
        await conn.copy_records_to_table(
            "person",
            records=people,
            columns=["id", "first_name", "last_name", "email", "language", "created_at", "updated_at"],
        )
        await conn.copy_records_to_table(
            "subscription",
            records=[(uuid.uuid4(), p[0], list_id, "subscribed", "consent", "bench", now, now, now) for p in people],
            columns=[
                "id",
                "person_id",
                "list_id",
                "status",
                "legal_basis",
                "source",
                "consented_at",
                "created_at",
                "updated_at",
            ],
        )
    finally:
        await conn.close()
    return str(list_id)


async def start(url: str, list_id: str) -> tuple[str, float]:
    from _common import settings_for

    from crm.domain.campaigns.services import CampaignService
    from crm.lib.services import alchemy_config, open_session

    config = alchemy_config(settings_for(url))
    async with open_session(config) as session:
        service = CampaignService(session=session)
        campaign = await service.create_campaign(
            {
                "name": "Bench",
                "subject": "La lettre des villes – novembre",
                "list_id": uuid.UUID(list_id),
                "from_name": "Association",
                "from_email": "lettre@example.org",
                "template": "newsletter",
                "content": BLOCKS,
                "kind": "newsletter",
            }
        )
        await session.flush()
        campaign_id = campaign.id
    async with open_session(config) as session:
        started = time.perf_counter()
        await CampaignService(session=session).start(campaign_id, settings_for(url))
    await config.get_engine().dispose()
    return str(campaign_id), time.perf_counter() - started


async def render_cost(url: str, campaign_id: str, samples: int = 2000) -> tuple[float, int]:
    from _common import settings_for
    from sqlalchemy import text

    from crm.db.models.campaign import Campaign
    from crm.domain.campaigns.deliveries import CampaignDeliveries
    from crm.domain.campaigns.rendering import RECIPIENT_COLUMNS, sent_template
    from crm.lib.services import alchemy_config, open_session

    settings = settings_for(url)
    config = alchemy_config(settings)
    async with open_session(config) as session:
        campaign = await session.get(Campaign, uuid.UUID(campaign_id))
        assert campaign is not None
        # The rows as the engine's claim returns them.
        rows = (
            await session.execute(
                text(
                    f"SELECT t.id, t.person_id, t.email, {', '.join(RECIPIENT_COLUMNS)} FROM delivery t "
                    "JOIN person p ON p.id = t.person_id "
                    "LEFT JOIN subscription s ON s.person_id = t.person_id AND s.list_id = :l "
                    "WHERE t.campaign_id = :c LIMIT 200"
                ),
                {"c": campaign_id, "l": campaign.list_id},
            )
        ).all()
    adapter = CampaignDeliveries(settings, config, None, campaign, sent_template(campaign))  # type: ignore[arg-type]
    async with config.get_engine().connect() as conn:
        await adapter.load_list(conn)
    started = time.perf_counter()
    size = 0
    for i in range(samples):
        size = len(adapter.build(rows[i % len(rows)]))
    elapsed = time.perf_counter() - started
    await config.get_engine().dispose()
    return elapsed / samples * 1e6, size


async def engine_run(url: str, redis_url: str, port: int, counter: object, campaign_id: str, connections: int) -> dict:
    """One real worker process sends the campaign; returns its rate, peak memory and round trips."""
    import json
    import tempfile

    import redis as redis_lib

    with counter.get_lock():  # type: ignore[attr-defined]
        counter.value = 0  # type: ignore[attr-defined]
    redis_lib.Redis.from_url(redis_url).flushdb()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        CRM_DATABASE_URL=url,
        CRM_REDIS_URL=redis_url,
        CRM_SMTP_URL=f"smtp://127.0.0.1:{port}",
        CRM_SENDING_SMTP_CONNECTIONS=str(connections),
        CRM_SENDING_JOBS_PER_CAMPAIGN="2",
        CRM_SENDING_SWEEP_EVERY_SECONDS="2",
        CRM_LOG_LEVEL="WARNING",
    )
    counts_file = Path(tempfile.mkdtemp()) / "round_trips.json"
    conn = await asyncpg.connect(plain_url(url))
    # Not due until the worker is ready: its start-up sweep must not begin the send untimed.
    await conn.execute(
        "UPDATE delivery SET next_attempt_at = now() + interval '1 day' WHERE campaign_id = $1", uuid.UUID(campaign_id)
    )
    launched = time.perf_counter()
    worker = subprocess.Popen(  # noqa: ASYNC220 - started once, then polled
        [sys.executable, str(ROOT / "bench" / "_counting_worker.py"), counts_file],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # The worker is ready when arq has written its health key: its start-up (imports, pools) is
    # timed apart, and the send is timed from the jobs queued, as when staff press send.
    from crm.lib.redis import QUEUE_NAME

    ready = redis_lib.Redis.from_url(redis_url)
    while not ready.exists(f"{QUEUE_NAME}:health-check"):  # noqa: ASYNC110 - another process
        await asyncio.sleep(0.05)
    startup = time.perf_counter() - launched
    started = time.perf_counter()
    await conn.execute("UPDATE delivery SET next_attempt_at = now() WHERE campaign_id = $1", uuid.UUID(campaign_id))
    await enqueue(redis_url, campaign_id)
    peak = 0
    try:
        while await conn.fetchval("SELECT status FROM campaign WHERE id = $1", uuid.UUID(campaign_id)) != "finished":
            try:
                peak = max(peak, psutil.Process(worker.pid).memory_info().rss)
            except psutil.NoSuchProcess:
                break
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - started
        sent = await conn.fetchval(
            "SELECT count(*) FROM delivery WHERE campaign_id = $1 AND status = 'sent'", uuid.UUID(campaign_id)
        )
    finally:
        await conn.close()
        worker.terminate()
        worker.wait(30)
    counts = json.loads(counts_file.read_text())
    counts_file.unlink()
    return {
        "sent": sent,
        "elapsed": elapsed,
        "rate": sent / elapsed,
        "peak": peak,
        "startup": startup,
        "sink": counter.value,  # type: ignore[attr-defined]
        "round_trips": counts["statements"] + counts["begin_commit"],
        "message_path": counts["message_path"],
    }


async def enqueue(redis_url: str, campaign_id: str) -> None:
    """The send jobs, as the API queues them after the start (two per campaign)."""
    from crm.domain.campaigns.queue import enqueue_send
    from crm.lib.redis import connect_redis

    redis = connect_redis(redis_url)
    try:
        await enqueue_send(redis, uuid.UUID(campaign_id), 2)
    finally:
        await redis.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--runs", type=int, default=1, help="baseline and engine, one after the other, this many times")
    args = parser.parse_args()

    port = free_port()
    counter = multiprocessing.Value("q", 0)
    sink = multiprocessing.Process(target=run_sink, args=(port, counter), daemon=True)
    sink.start()
    await asyncio.sleep(1)
    redis_url = os.environ.get("CRM_REDIS_URL", "redis://127.0.0.1:6379/13")
    ratios = []
    async with bench_database("sending") as url:
        for run in range(1, args.runs + 1):
            list_id = await make_campaign(url, args.recipients)
            campaign_id, start_seconds = await start(url, list_id)
            per_message_us, size = await render_cost(url, campaign_id)
            print(
                f"run {run}: recipients {args.recipients}, message size {size / 1024:.1f} KB, SMTP connections {args.connections}"
            )
            print(f"  start (deliveries written in one transaction): {start_seconds:.2f} s")
            print(
                f"  render + build per message: {per_message_us:.0f} µs ({1e6 / per_message_us:,.0f} messages/s on one core)"
            )
            # Baseline: the same number of prebuilt messages of the same size, raw aiosmtplib.
            line = b"x" * 74 + b"\r\n"
            message = b"Subject: x\r\n\r\n" + line * (size // len(line))
            raw_rate = await baseline(port, [message] * args.recipients, args.connections)
            print(f"  baseline: aiosmtplib, prebuilt messages: {raw_rate:,.0f} messages/s")
            result = await engine_run(url, redis_url, port, counter, campaign_id, args.connections)
            ratio = result["rate"] / raw_rate
            ratios.append(ratio)
            print(
                f"  engine: one worker process: {result['sent']} sent in {result['elapsed']:.1f} s = "
                f"{result['rate']:,.0f} messages/s ({ratio:.0%} of the baseline); sink counted {result['sink']}"
            )
            sent = max(1, result["sent"])
            print(
                f"  database round trips: {result['round_trips']} for {result['sent']} messages = "
                f"{result['round_trips'] / sent:.3f} per message (every statement, BEGIN and COMMIT of the "
                f"worker, sweeps and heartbeats included); claims and steps alone: {result['message_path']} = "
                f"{result['message_path'] / sent:.3f} per message"
            )
            print(f"  worker start-up (until ready, not in the rate): {result['startup']:.1f} s")
            print(f"  worker peak memory (RSS): {result['peak'] / 1024 / 1024:.0f} MB")
    if len(ratios) > 1:
        print(f"engine / baseline over {len(ratios)} runs: " + ", ".join(f"{r:.0%}" for r in ratios))
    sink.terminate()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    asyncio.run(main())
