"""The arq entry points of campaign sending; the work is in crm.domain.campaigns.sending."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from crm.config import Settings
from crm.domain.campaigns import sending
from jobs.context import WORKER_NAME


async def send_campaign(ctx: dict[str, Any], campaign_id: str) -> str:
    sent, run = await sending.send_campaign(
        ctx["settings"], ctx["db_config"], ctx["redis"], ctx["smtp_pool"], UUID(campaign_id), WORKER_NAME
    )
    return f"sent {sent}" if run is not None else "not running"


async def sweep(ctx: dict[str, Any]) -> str:
    return await sending.sweep_campaigns(ctx["settings"], ctx["db_config"], ctx["redis"])


def sweep_seconds(settings: Settings) -> set[int]:
    step = max(1, min(60, settings.sending.sweep_every_seconds))
    return set(range(0, 60, step))


async def send_campaign_test(ctx: dict[str, Any], campaign_id: str, staff_id: str, person_id: str) -> str:
    return await sending.send_test(
        ctx["settings"], ctx["db_config"], ctx["mailer"], UUID(campaign_id), UUID(staff_id), UUID(person_id)
    )
