"""The outbox engine against real worker processes: killed with SIGKILL mid-campaign, Redis
flushed, two workers at once; and killed while sending event messages and system mail. Every
recipient gets their message; duplicates stay within the messages in flight at a kill (the target
is none)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.lib.redis import connect_redis
from tests.events_helpers import invite, make_event
from tests.mailing_helpers import make_list
from tests.sending_helpers import campaign_row, delivery_counts, make_audience, received_per_address
from tests.smtp import SmtpSink

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS = 5
FINISH_TIMEOUT = 240


def worker_env(settings: Any, default_leases: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        CRM_DATABASE_URL=settings.database.url,
        CRM_REDIS_URL=settings.redis.url,
        CRM_SMTP_URL=settings.smtp.url.get_secret_value(),
        CRM_SECURITY_SECRET_KEY=settings.security.secret_key.get_secret_value(),
        CRM_PUBLIC_URL=settings.public_url,
        CRM_SENDING_LEASE_SECONDS="3",
        CRM_SENDING_SWEEP_EVERY_SECONDS="1",
        CRM_SENDING_BATCH_SIZE="25",
        CRM_SENDING_SMTP_CONNECTIONS=str(CONNECTIONS),
        CRM_SENDING_RETRY_BASE_SECONDS="1",
        CRM_LOG_LEVEL="WARNING",
    )
    if default_leases:
        del env["CRM_SENDING_LEASE_SECONDS"], env["CRM_SENDING_SWEEP_EVERY_SECONDS"]
    return env


def start_worker(settings: Any, default_leases: bool = False) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "crm.cli", "worker"],
        env=worker_env(settings, default_leases),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def start_campaign(client: AsyncTestClient[Any], engine: AsyncEngine, recipients: int) -> tuple[str, set[str]]:
    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, recipients)
    created = await client.post(
        "/api/v1/campaigns",
        json={
            "name": "Lettre",
            "subject": "La lettre",
            "list_id": str(list_id),
            "content": {"blocks": [{"type": "text", "text": "Bonjour {{ first_name }}"}]},
        },
    )
    campaign_id = created.json()["id"]
    assert (await client.post(f"/api/v1/campaigns/{campaign_id}/send")).status_code == 202
    return campaign_id, {email for _, email in people}


async def finished(engine: AsyncEngine, campaign_id: str) -> bool:
    return (await campaign_row(engine, campaign_id)).status == "finished"


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


async def test_kill_9_five_times_during_a_5000_recipient_campaign(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, settings: Any
) -> None:
    campaign_id, addresses = await start_campaign(admin_client, engine, 5000)
    worker = start_worker(settings)
    kills = 0
    try:
        for kills in range(1, 6):
            target = kills * 700

            async def reached(target: int = target) -> bool:
                return len(smtp.messages) >= target

            await wait_for(reached, 120, f"{target} messages")
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            worker = start_worker(settings)
        await wait_for(lambda: finished(engine, campaign_id), FINISH_TIMEOUT, "the campaign to finish")
    finally:
        stop(worker)
    received = received_per_address(smtp)
    duplicates = sum(count - 1 for count in received.values())
    print(
        f"\nkill -9 x{kills}: {len(received)} recipients served, {duplicates} duplicate(s), bound {kills * CONNECTIONS}"
    )
    assert set(received) == addresses
    assert duplicates <= kills * CONNECTIONS  # never more than the messages in flight at the kills
    counts = await delivery_counts(engine, campaign_id)
    assert counts == {"sent": 5000}


async def test_a_campaign_completes_from_postgresql_after_redis_is_flushed(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, settings: Any
) -> None:
    campaign_id, addresses = await start_campaign(admin_client, engine, 1000)
    worker = start_worker(settings)
    try:

        async def some_sent() -> bool:
            return len(smtp.messages) >= 200

        await wait_for(some_sent, 120, "the first messages")
        # Redis loses everything (a restart without persistence), and the worker with it.
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        redis = connect_redis(settings.redis.url)
        await redis.flushdb()
        await redis.aclose()
        worker = start_worker(settings)
        await wait_for(lambda: finished(engine, campaign_id), FINISH_TIMEOUT, "the campaign to finish")
    finally:
        stop(worker)
    received = received_per_address(smtp)
    assert set(received) == addresses
    assert sum(count - 1 for count in received.values()) <= CONNECTIONS


async def test_two_worker_processes_share_a_campaign_without_duplicates(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, settings: Any
) -> None:
    campaign_id, addresses = await start_campaign(admin_client, engine, 1500)
    workers = [start_worker(settings), start_worker(settings)]
    try:
        await wait_for(lambda: finished(engine, campaign_id), FINISH_TIMEOUT, "the campaign to finish")
    finally:
        for worker in workers:
            stop(worker)
    received = received_per_address(smtp)
    assert set(received) == addresses
    assert set(received.values()) == {1}


async def test_with_the_default_settings_sending_resumes_soon_after_a_kill_9(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, settings: Any
) -> None:
    """No lease or sweep setting given: the defaults bring sending back after a worker dies (the
    README states the delay measured here)."""
    campaign_id, addresses = await start_campaign(admin_client, engine, 1500)
    worker = start_worker(settings, default_leases=True)
    try:

        async def some_sent() -> bool:
            return len(smtp.messages) >= 300

        await wait_for(some_sent, 120, "the first messages")
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        killed_at, before = time.monotonic(), len(smtp.messages)
        worker = start_worker(settings, default_leases=True)

        async def resumed() -> bool:
            return len(smtp.messages) > before

        await wait_for(resumed, 120, "sending to resume")
        print(f"\nkill -9 to the next message, default settings: {time.monotonic() - killed_at:.1f} s")
        await wait_for(lambda: finished(engine, campaign_id), FINISH_TIMEOUT, "the campaign to finish")
    finally:
        stop(worker)
    received = received_per_address(smtp)
    assert set(received) == addresses
    assert sum(count - 1 for count in received.values()) <= CONNECTIONS


async def _pending(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text(f"SELECT count(*) FROM {table} WHERE status IN ('queued', 'leased')")) or 0)


async def _kill_9_once_then_finish(settings: Any, smtp: SmtpSink, engine: AsyncEngine, table: str, kill_at: int) -> int:
    """A worker (no job queued: its sweep finds the rows waiting) killed with SIGKILL after
    `kill_at` messages, then a new one; returns once nothing is queued or leased."""
    worker = start_worker(settings)
    try:

        async def reached() -> bool:
            return len(smtp.messages) >= kill_at

        await wait_for(reached, 120, f"{kill_at} messages")
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        worker = start_worker(settings)

        async def done() -> bool:
            return await _pending(engine, table) == 0

        await wait_for(done, FINISH_TIMEOUT, f"every {table} row to be answered")
    finally:
        stop(worker)
    return len(smtp.messages)


async def test_event_messages_survive_a_kill_9(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, settings: Any
) -> None:
    """The same engine for event messages: an invitation to each of 150 people, a worker killed
    mid-way; everyone gets theirs, duplicates at most the one message in flight (one lane)."""
    event = await make_event(admin_client, capacity=1000)
    people = await make_audience(engine, await make_list(engine, "invités"), 150)
    await invite(engine, event["id"], people)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO event_notification (id, invitation_id, kind, sequence, status, attempts, "
                "next_attempt_at, created_at, updated_at) "
                "SELECT gen_random_uuid(), id, 'invitation', 0, 'queued', 0, now(), now(), now() FROM invitation"
            )
        )
    await _kill_9_once_then_finish(settings, smtp, engine, "event_notification", 50)
    received = received_per_address(smtp)
    assert set(received) == {email for _, email in people}
    assert sum(count - 1 for count in received.values()) <= 1
    async with engine.connect() as conn:
        statuses = dict((await conn.execute(text("SELECT status, count(*) FROM event_notification GROUP BY 1"))).all())
    assert statuses == {"sent": 150}


async def test_system_mail_survives_a_kill_9(engine: AsyncEngine, smtp: SmtpSink, settings: Any) -> None:
    """Confirmations of 120 pending subscriptions, queued as the forms queue them; a worker killed
    mid-way: each person gets one, duplicates at most the one message in flight."""
    from crm.domain.system.mail import queue_confirmations
    from crm.lib.services import alchemy_config, open_session

    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 120, status="pending")
    config = alchemy_config(settings)
    async with open_session(config) as session:
        subscriptions = (await session.execute(text("SELECT id FROM subscription"))).scalars().all()
        assert await queue_confirmations(session, subscriptions) == 120
    await config.get_engine().dispose()
    await _kill_9_once_then_finish(settings, smtp, engine, "system_message", 40)
    received = received_per_address(smtp)
    assert set(received) == {email for _, email in people}
    assert sum(count - 1 for count in received.values()) <= 1
    assert all("Confirmez votre inscription" in m.message["Subject"] for m in smtp.messages)
