"""The partner API's housekeeping: the change log beyond a sync token's life and the stored
answers of idempotent writes beyond a day are dropped, once an hour."""

from __future__ import annotations

from typing import Any

import structlog

log = structlog.get_logger("jobs.partners")


async def forget_partner_history(ctx: dict[str, Any]) -> str:
    # Loaded on the first run, not with the worker (which stays small for campaigns).
    from crm.domain.partners import feed, idempotency
    from crm.lib.services import open_session

    async with open_session(ctx["db_config"]) as session:
        changes = await feed.forget_old_changes(session, ctx["settings"].partner.sync_token_days)
        await idempotency.forget_old(session)
    log.info("partner_history_forgotten", changes=changes)
    return f"forgot {changes} changes"


async def tell_partners(ctx: dict[str, Any]) -> str:
    """Partner webhooks: the contact changes since each listening partner's last round become
    webhook deliveries, then the sender is woken."""
    from crm.domain.partners.webhook_feed import tell_partners as write_rounds
    from crm.domain.webhooks.events import wake
    from crm.lib.services import open_session

    async with open_session(ctx["db_config"]) as session:
        told = await write_rounds(session)
    if told:
        await wake(ctx["redis"])
    return f"told {told} changes"
