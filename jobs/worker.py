"""The arq worker: `crm worker` runs it with the Redis of the settings."""

from __future__ import annotations

from typing import Any

from arq import cron, func
from arq.connections import RedisSettings

from crm.config import get_settings
from crm.lib.logging import configure_logging
from crm.lib.mail import Mailer, SmtpPool
from crm.lib.redis import QUEUE_NAME
from crm.lib.services import WORKER_MAX_OVERFLOW, alchemy_config
from jobs.events import events_tick, send_event_notifications, tick_minutes
from jobs.imports import SWEEP_SECOND, run_import, sweep_imports
from jobs.partners import forget_partner_history, tell_partners
from jobs.questionnaires import questionnaire_reminders
from jobs.sending import send_campaign, send_campaign_test, sweep, sweep_seconds
from jobs.system_mail import send_system_mail, send_test_email
from jobs.webhooks import send_webhooks


async def startup(ctx: dict[str, Any]) -> None:
    settings = ctx.get("settings") or get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    ctx["settings"] = settings
    ctx["db_config"] = alchemy_config(settings, max_overflow=WORKER_MAX_OVERFLOW)
    ctx["mailer"] = Mailer(settings.smtp.endpoint(), timeout=settings.smtp.timeout)
    # Campaign messages get their own pooled connections, opened on first use.
    ctx["smtp_pool"] = SmtpPool(
        [
            Mailer(settings.smtp.endpoint(), timeout=settings.smtp.timeout)
            for _ in range(settings.sending.smtp_connections)
        ]
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    if "mailer" in ctx:
        await ctx["mailer"].close()
    if "smtp_pool" in ctx:
        await ctx["smtp_pool"].close()
    if "db_config" in ctx:
        await ctx["db_config"].get_engine().dispose()


def redis_settings() -> RedisSettings:
    return RedisSettings.from_dsn(get_settings().redis_url)


class WorkerSettings:
    functions = [
        send_test_email,
        func(send_system_mail, keep_result=0),
        func(send_campaign, keep_result=0),
        func(send_webhooks, keep_result=0),
        func(tell_partners, keep_result=0),
        send_campaign_test,
        # An import of 50,000 rows may take minutes; its progress is on the batch.
        func(run_import, keep_result=0, timeout=3600),
        func(send_event_notifications, keep_result=0),
        # Also a plain job, so an operator (or a test) can run the events cron at once.
        func(events_tick, keep_result=0),
        func(questionnaire_reminders, keep_result=0),
    ]
    # Every worker runs the sweeper; arq's cron job ids keep one run per tick across workers.
    cron_jobs = [
        cron(sweep, second=sweep_seconds(get_settings()), run_at_startup=True, keep_result=0),
        cron(sweep_imports, second=SWEEP_SECOND, keep_result=0),
        # Event reminders, and the sweeper of event messages.
        cron(events_tick, minute=tick_minutes(get_settings()), second=0, run_at_startup=True, keep_result=0),
        # Questionnaire reminders: hourly, so a worker down at 9 o'clock still sends the day's.
        cron(questionnaire_reminders, minute=5, second=30, run_at_startup=True, keep_result=0),
        # The partner change log past a sync token's life, and day-old idempotent answers.
        cron(forget_partner_history, minute=47, second=0, keep_result=0),
        # Partner webhooks from the contact change log, at the sweep's pace.
        cron(tell_partners, second=sweep_seconds(get_settings()), keep_result=0),
    ]
    on_startup = startup
    on_shutdown = shutdown
    queue_name = QUEUE_NAME
    max_tries = 8
    # arq writes a health key every interval; `crm worker --check` reads it.
    health_check_interval = 30
    job_timeout = 300
    keep_result = 3600
    allow_abort_jobs = True
