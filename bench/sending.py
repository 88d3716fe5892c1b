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

    from crm.db.models.campaign import Campaign
    from crm.domain.campaigns.rendering import sent_template
    from crm.lib.services import alchemy_config, open_session
    from jobs.sending import CampaignRun, Recipient

    settings = settings_for(url)
    config = alchemy_config(settings)
    async with open_session(config) as session:
        campaign = await session.get(Campaign, uuid.UUID(campaign_id))
        rows = (
            await session.execute(
                __import__("sqlalchemy").text(
                    "SELECT id, person_id, email FROM delivery WHERE campaign_id = :c LIMIT 200"
                ),
                {"c": campaign_id},
            )
        ).all()
    run = CampaignRun(
        {"settings": settings, "db_config": config, "smtp_pool": None, "redis": None}, campaign, sent_template(campaign)
    )
    await run.load_list()
    async with config.get_engine().connect() as conn:
        from crm.domain.campaigns.rendering import recipient_rows

        people = await recipient_rows(conn, campaign.list_id, [r.person_id for r in rows])
    recipients = [Recipient(r.id, r.person_id, r.email, 1) for r in rows]
    started = time.perf_counter()
    size = 0
    for i in range(samples):
        r = recipients[i % len(recipients)]
        size = len(run.build(r, people[r.person_id]))
    elapsed = time.perf_counter() - started
    await config.get_engine().dispose()
    return elapsed / samples * 1e6, size


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=10)
    args = parser.parse_args()

    port = free_port()
    counter = multiprocessing.Value("q", 0)
    sink = multiprocessing.Process(target=run_sink, args=(port, counter), daemon=True)
    sink.start()
    await asyncio.sleep(1)
    redis_url = os.environ.get("CRM_REDIS_URL", "redis://127.0.0.1:6379/13")
    async with bench_database("sending") as url:
        list_id = await make_campaign(url, args.recipients)
        campaign_id, start_seconds = await start(url, list_id)
        per_message_us, size = await render_cost(url, campaign_id)
        print(f"recipients {args.recipients}, message size {size / 1024:.1f} KB, SMTP connections {args.connections}")
        print(f"start (deliveries written in one transaction): {start_seconds:.2f} s")
        print(
            f"render + build per message: {per_message_us:.0f} µs ({1e6 / per_message_us:,.0f} messages/s on one core)"
        )

        # Baseline: the same number of prebuilt messages of the same size, raw aiosmtplib.
        line = b"x" * 74 + b"\r\n"
        message = b"Subject: x\r\n\r\n" + line * (size // len(line))
        raw_rate = await baseline(port, [message] * args.recipients, args.connections)
        print(f"baseline: aiosmtplib, prebuilt messages: {raw_rate:,.0f} messages/s")

        with counter.get_lock():
            counter.value = 0
        import redis as redis_lib

        redis_lib.Redis.from_url(redis_url).flushdb()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        env.update(
            CRM_DATABASE_URL=url,
            CRM_REDIS_URL=redis_url,
            CRM_SMTP_URL=f"smtp://127.0.0.1:{port}",
            CRM_SENDING_SMTP_CONNECTIONS=str(args.connections),
            CRM_SENDING_JOBS_PER_CAMPAIGN="2",
            CRM_SENDING_SWEEP_EVERY_SECONDS="2",
            CRM_LOG_LEVEL="WARNING",
        )
        started = time.perf_counter()
        worker = subprocess.Popen(  # noqa: ASYNC220 - started once, then polled
            [sys.executable, "-m", "crm.cli", "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        peak = 0
        conn = await asyncpg.connect(plain_url(url))
        try:
            while (
                await conn.fetchval("SELECT status FROM campaign WHERE id = $1", uuid.UUID(campaign_id)) != "finished"
            ):
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
        rate = sent / elapsed
        print(
            f"engine: one worker process: {sent} sent in {elapsed:.1f} s = {rate:,.0f} messages/s "
            f"({rate / raw_rate:.0%} of the baseline); sink counted {counter.value}"
        )
        print(f"worker peak memory (RSS): {peak / 1024 / 1024:.0f} MB")
    sink.terminate()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    asyncio.run(main())
