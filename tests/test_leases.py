"""A working job keeps its leases while one message is slow, so leases can be short; when the job
is gone, its leases run out and the sweeper hands the rows back."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.domain.events.notifications import NOTIFICATIONS
from crm.domain.outbox.engine import leases_kept, sweep_expired
from tests.events_helpers import invite, make_event
from tests.mailing_helpers import make_list
from tests.sending_helpers import make_audience


async def _lease(engine: AsyncEngine) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT status, lease_expires_at FROM event_notification"))).one()


async def test_a_live_job_keeps_its_lease_past_the_lease_time_and_a_dead_one_loses_it(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine
) -> None:
    event = await make_event(admin_client, capacity=10)
    people = await make_audience(engine, await make_list(engine, "l"), 1)
    await invite(engine, event["id"], people)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO event_notification (id, invitation_id, kind, sequence, status, attempts, "
                "next_attempt_at, lease_expires_at, leased_by, created_at, updated_at) "
                "SELECT gen_random_uuid(), id, 'confirmation', 0, 'leased', 1, now(), "
                "now() + interval '3 seconds', 'job-1', now(), now() FROM invitation"
            )
        )
    first = (await _lease(engine)).lease_expires_at
    async with leases_kept(engine, NOTIFICATIONS, "job-1", 3):
        # Longer than the lease itself: a message whose SMTP answer is this slow keeps its row.
        deadline = time.monotonic() + 4.5
        while time.monotonic() < deadline:
            async with engine.begin() as conn:
                assert await sweep_expired(conn, NOTIFICATIONS) == []
            await asyncio.sleep(0.25)
        assert (await _lease(engine)).lease_expires_at > first
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE event_notification SET lease_expires_at = now() - interval '1 second'"))
        assert len(await sweep_expired(conn, NOTIFICATIONS)) == 1
    assert (await _lease(engine)).status == "queued"
