"""The arq entry points of the outbox: campaign sends, the test send, and the one sweep of every
consumer. The work is in crm.domain (campaigns.sending, events.notifications, system.mail,
webhooks.deliveries)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from crm.config import Settings
from crm.domain.association.branding import job_settings
from crm.domain.campaigns import sending
from crm.domain.events.notifications import NOTIFICATIONS
from crm.domain.events.queue import enqueue_notifications
from crm.domain.outbox.engine import stalled, sweep_expired
from crm.domain.system import mail as system_mail
from crm.domain.webhooks import events as webhook_events
from crm.domain.webhooks.deliveries import WEBHOOK_DELIVERIES
from jobs.context import WORKER_NAME

# Consumers other than campaigns: their table, and how to start a job that sends what waits.
CONSUMERS = (
    (NOTIFICATIONS, enqueue_notifications),
    (system_mail.SYSTEM_MESSAGES, system_mail.wake),
    (WEBHOOK_DELIVERIES, webhook_events.wake),
)


async def send_campaign(ctx: dict[str, Any], campaign_id: str) -> str:
    sent, run = await sending.send_campaign(
        await job_settings(ctx), ctx["db_config"], ctx["redis"], ctx["smtp_pool"], UUID(campaign_id), WORKER_NAME
    )
    return f"sent {sent}" if run is not None else "not running"


async def sweep(ctx: dict[str, Any]) -> str:
    """Every few seconds on every worker: campaigns (expired leases, finished, stalled, scheduled),
    then the other consumers: their expired leases back to the queue, and a job when rows wait
    that nobody works on (a killed worker, a flushed Redis)."""
    settings: Settings = await job_settings(ctx)
    said = await sending.sweep_campaigns(settings, ctx["db_config"], ctx["redis"])
    for table, wake in CONSUMERS:
        async with ctx["db_config"].get_engine().begin() as conn:
            await sweep_expired(conn, table)
            waiting = await stalled(conn, table, settings.sending.sweep_every_seconds)
        if waiting:
            await wake(ctx["redis"])
    return said


def sweep_seconds(settings: Settings) -> set[int]:
    step = max(1, min(60, settings.sending.sweep_every_seconds))
    return set(range(0, 60, step))


async def send_campaign_test(ctx: dict[str, Any], campaign_id: str, staff_id: str, person_id: str) -> str:
    return await sending.send_test(
        await job_settings(ctx), ctx["db_config"], ctx["mailer"], UUID(campaign_id), UUID(staff_id), UUID(person_id)
    )
