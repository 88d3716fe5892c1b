"""The arq entry points of event messages; the work is in crm.domain.events.notifications."""

from __future__ import annotations

from typing import Any

import structlog

from crm.config import Settings
from crm.domain.association.branding import job_settings
from crm.domain.events.notifications import NOTIFICATIONS, deliver_due, queue_reminders
from crm.domain.outbox.engine import sweep_expired
from jobs.context import WORKER_NAME

log = structlog.get_logger("jobs.events")


async def send_event_notifications(ctx: dict[str, Any]) -> str:
    sent = await deliver_due(await job_settings(ctx), ctx["db_config"], ctx["redis"], ctx["smtp_pool"], WORKER_NAME)
    log.info("event_notifications_sent", sent=sent)
    return f"sent {sent}"


async def events_tick(ctx: dict[str, Any]) -> str:
    """The events cron: hands back expired leases, queues due reminders, sends what waits.
    Safe on every worker at once."""
    async with ctx["db_config"].get_engine().begin() as conn:
        returned = len(await sweep_expired(conn, NOTIFICATIONS))
    settings = await job_settings(ctx)
    queued = await queue_reminders(settings, ctx["db_config"])
    sent = await deliver_due(settings, ctx["db_config"], ctx["redis"], ctx["smtp_pool"], WORKER_NAME)
    return f"leases returned {returned}, reminders queued {queued}, sent {sent}"


def tick_minutes(settings: Settings) -> set[int]:
    return set(range(0, 60, settings.events.tick_every_minutes))
