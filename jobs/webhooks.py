"""The arq entry point of partner webhooks (crm.domain.webhooks.deliveries): ids only, safe to run
twice; the sweep (jobs/sending.py) starts one when deliveries wait that nobody works on."""

from __future__ import annotations

from typing import Any

from crm.domain.association.branding import job_settings
from crm.domain.webhooks import deliveries
from jobs.context import WORKER_NAME


async def send_webhooks(ctx: dict[str, Any]) -> str:
    sent = await deliveries.deliver_due(await job_settings(ctx), ctx["db_config"], ctx["redis"], WORKER_NAME)
    return f"delivered {sent}"
