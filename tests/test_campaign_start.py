"""Starting a send writes one delivery per recipient in one transaction: a start cut off while it
writes leaves nothing behind, and the next start writes each recipient exactly once."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID

from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.domain.campaigns.services import CampaignService
from crm.lib.services import alchemy_config, open_session
from tests.mailing_helpers import make_list
from tests.sending_helpers import campaign_row, make_audience, suppress

RECIPIENTS = 400
# The backend that waits for the blocker's lock.
WAITING_START = text("SELECT pid FROM pg_stat_activity WHERE :blocker = ANY(pg_blocking_pids(pid))")


async def deliveries(engine: AsyncEngine, campaign_id: Any) -> tuple[int, int]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT count(*), count(DISTINCT person_id) FROM delivery WHERE campaign_id = :id"),
                {"id": campaign_id},
            )
        ).one()
    return int(row[0]), int(row[1])


async def test_a_start_cut_off_while_writing_deliveries_leaves_none_and_the_next_writes_each_once(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, RECIPIENTS)
    await suppress(engine, people[0][1])
    created = await admin_client.post(
        "/api/v1/campaigns",
        json={
            "name": "Lettre",
            "subject": "La lettre",
            "list_id": str(list_id),
            "content": {"blocks": [{"type": "text", "text": "Bonjour {{ first_name }}"}]},
        },
    )
    campaign_id = created.json()["id"]

    # Another transaction is writing, uncommitted, the delivery of the last person: the start, past
    # the other recipients' rows, waits on it (one delivery per person and campaign). There it is
    # cut off, as if its process had died: its connection is terminated.
    last_person = max(person_id for person_id, _ in people[1:])
    config = alchemy_config(settings)
    try:
        async with engine.connect() as blocker:
            await blocker.execute(
                text(
                    "INSERT INTO delivery (id, campaign_id, person_id, email, status, attempts, next_attempt_at, "
                    "created_at, updated_at) VALUES (gen_random_uuid(), :c, :p, 'x@example.org', 'queued', 0, "
                    "now(), now(), now())"
                ),
                {"c": campaign_id, "p": last_person},
            )
            blocker_pid = await blocker.scalar(text("SELECT pg_backend_pid()"))

            async def start() -> None:
                async with open_session(config) as session:
                    await CampaignService(session=session).start(UUID(campaign_id), settings)

            starting = asyncio.create_task(start())
            deadline = time.monotonic() + 60
            async with engine.connect() as watcher:
                while (pid := await watcher.scalar(WAITING_START, {"blocker": blocker_pid})) is None:
                    assert not starting.done(), "the start finished without waiting"
                    assert time.monotonic() < deadline, "the start never reached the locked person"
                    await asyncio.sleep(0.05)
                await watcher.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            try:
                await starting
            except Exception:  # noqa: S110 - the connection was cut: the start must fail
                pass
            else:
                raise AssertionError("the start survived its connection")
            await blocker.rollback()
    finally:
        await config.get_engine().dispose()

    assert (await campaign_row(engine, campaign_id)).status == "draft"
    assert await deliveries(engine, campaign_id) == (0, 0)

    sent = await admin_client.post(f"/api/v1/campaigns/{campaign_id}/send")
    assert sent.status_code == 202, sent.text
    assert await deliveries(engine, campaign_id) == (RECIPIENTS - 1, RECIPIENTS - 1)
    row = await campaign_row(engine, campaign_id)
    assert (row.audience_count, row.suppressed_count) == (RECIPIENTS, 1)
    assert (await admin_client.post(f"/api/v1/campaigns/{campaign_id}/send")).status_code == 409
    assert await deliveries(engine, campaign_id) == (RECIPIENTS - 1, RECIPIENTS - 1)

    # An erased person's deliveries go with them (a trigger, as the foreign key's cascade did).
    erased = await admin_client.delete(f"/api/v1/people/{people[1][0]}")
    assert erased.status_code == 204, erased.text
    assert await deliveries(engine, campaign_id) == (RECIPIENTS - 2, RECIPIENTS - 2)
