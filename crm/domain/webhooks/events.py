"""The producer side of partner webhooks: `emit` writes one `webhook_delivery` row per enabled
endpoint of the partner subscribed to the event, in the caller's transaction (the change and its
message commit together, or neither), then the caller wakes the worker after its commit (`wake`).
The sweep sends what a lost job left behind."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import any_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.webhook import WebhookDelivery, WebhookEndpoint, WebhookEvent

JOB = "send_webhooks"
EVENTS = frozenset(e.value for e in WebhookEvent)


def new_message_id() -> str:
    """The `webhook-id`: unique per message, kept by every attempt and replay."""
    return f"msg_{uuid.uuid4().hex}"


def body(event_type: str, data: dict[str, Any], moment: datetime) -> str:
    """The payload as the specification shapes it: type, timestamp, data."""
    return json.dumps(
        {"type": event_type, "timestamp": moment.isoformat().replace("+00:00", "Z"), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


async def emit(session: AsyncSession, organisation_id: UUID, event_type: str, data: dict[str, Any]) -> None:
    """Tells partner `organisation_id` of `event_type` (contact.created...) with `data`, on each of
    its enabled endpoints subscribed to it. Writes rows only: the caller commits, then `wake`s."""
    if event_type not in EVENTS:
        raise ValueError(f"unknown webhook event {event_type!r}")
    endpoint_ids = (
        await session.scalars(
            select(WebhookEndpoint.id).where(
                WebhookEndpoint.organisation_id == organisation_id,
                WebhookEndpoint.enabled.is_(True),
                any_(WebhookEndpoint.event_types) == event_type,
            )
        )
    ).all()
    if not endpoint_ids:
        return
    now = datetime.now(UTC)
    message_id, text = new_message_id(), body(event_type, data, now)
    session.add_all(
        WebhookDelivery(
            endpoint_id=endpoint_id,
            organisation_id=organisation_id,
            event_type=event_type,
            message_id=message_id,
            body=text,
            next_attempt_at=now,
        )
        for endpoint_id in endpoint_ids
    )
    await session.flush()


async def wake(redis: Any) -> None:
    """Starts a job that sends what waits (after the caller's commit). A lost job is no loss: the
    sweep starts another while rows wait."""
    await redis.enqueue_job(JOB, _job_id=f"{JOB}:{uuid.uuid4().hex}")
