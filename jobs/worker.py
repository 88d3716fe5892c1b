"""The arq worker: `crm worker` runs it with the Redis of the settings."""

from __future__ import annotations

from typing import Any

from arq.connections import RedisSettings

from crm.config import get_settings
from crm.lib.logging import configure_logging
from crm.lib.mail import Mailer
from crm.lib.redis import QUEUE_NAME
from crm.lib.services import alchemy_config
from jobs.system_mail import send_staff_invitation, send_test_email


async def startup(ctx: dict[str, Any]) -> None:
    settings = ctx.get("settings") or get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    ctx["settings"] = settings
    ctx["db_config"] = alchemy_config(settings)
    ctx["mailer"] = Mailer(settings.smtp.endpoint(), timeout=settings.smtp.timeout)


async def shutdown(ctx: dict[str, Any]) -> None:
    if "mailer" in ctx:
        await ctx["mailer"].close()
    if "db_config" in ctx:
        await ctx["db_config"].get_engine().dispose()


def redis_settings() -> RedisSettings:
    return RedisSettings.from_dsn(get_settings().redis_url)


class WorkerSettings:
    functions = [send_test_email, send_staff_invitation]
    on_startup = startup
    on_shutdown = shutdown
    queue_name = QUEUE_NAME
    max_tries = 8
    # arq writes a health key every interval; `crm worker --check` reads it.
    health_check_interval = 30
    job_timeout = 300
    keep_result = 3600
    allow_abort_jobs = True
