"""Partner webhooks fed from the contact change log: `contact.created`, `contact.updated` and
`contact.deleted` say what a pull with a sync token would return, by the same rule (`what_changed`)
and from the same commit-safe rounds of the log (crm/domain/partners/feed.py), so a partner that
listens and a partner that pulls hear the same changes, none skipped or told twice.

Each partner with an enabled endpoint has a cursor: the horizon of its last round. A round, in one
transaction: lock the cursor (SKIP LOCKED: two workers never tell a change twice), read the changes
below the new horizon, write one webhook delivery per change and endpoint (`emit`), move the cursor.
A partner's first round starts at the changes made since its first endpoint was registered: it is
told of what changes from then on, not of the past (the full listing is there for that)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.webhook import WebhookEvent
from crm.domain.partners import feed
from crm.domain.partners.services import what_changed
from crm.domain.webhooks.events import emit

PAGE = 500
PARTNERS_LISTENING = text("SELECT DISTINCT organisation_id FROM webhook_endpoint WHERE enabled")
# A partner's first round starts with the changes made since its first endpoint was registered.
START_CURSOR = text(
    """
    INSERT INTO partner_webhook_cursor (organisation_id, horizon)
    SELECT :org, least(:hi, coalesce((
        SELECT min(xid) FROM contact_change WHERE changed_at >= (
            SELECT min(created_at) FROM webhook_endpoint WHERE organisation_id = :org
        )
    ), :hi))
    ON CONFLICT DO NOTHING
    """
)
LOCK_CURSOR = text("SELECT horizon FROM partner_webhook_cursor WHERE organisation_id = :org FOR UPDATE SKIP LOCKED")
MOVE_CURSOR = text("UPDATE partner_webhook_cursor SET horizon = :hi, updated_at = now() WHERE organisation_id = :org")


async def tell_partners(session: AsyncSession) -> int:
    """One round for every partner listening; returns the webhook events written. The caller
    commits, then wakes the webhook sender."""
    hi = await feed.horizon(session)
    told = 0
    for org in (await session.scalars(PARTNERS_LISTENING)).all():
        await session.execute(START_CURSOR, {"org": org, "hi": hi})
        lo = await session.scalar(LOCK_CURSOR, {"org": org})
        if lo is None or lo >= hi:  # another worker's round, or nothing new
            continue
        told += await _round(session, org, int(lo), hi)
        await session.execute(MOVE_CURSOR, {"org": org, "hi": hi})
    return told


async def _round(session: AsyncSession, org: UUID, lo: int, hi: int) -> int:
    told, after = 0, 0
    while True:
        page = await feed.changes_page(session, lo, hi, after, PAGE)
        for change, known in await what_changed(session, org, [person_id for _, person_id in page]):
            if change.deleted:
                event, data = WebhookEvent.CONTACT_DELETED, {"id": str(change.id)}
            else:
                event = WebhookEvent.CONTACT_UPDATED if known else WebhookEvent.CONTACT_CREATED
                data = change.contact.model_dump(mode="json") if change.contact else {"id": str(change.id)}
            await emit(session, org, event.value, data)
            told += 1
        if len(page) < PAGE:
            return told
        after = page[-1][0]
