"""Putting a campaign's send jobs on the queue: ids only, and a fresh job id each time, so that a
job stuck in a dead worker never blocks a new one (a second job on the same campaign is harmless:
deliveries are leased one job at a time)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID


async def enqueue_send(redis: Any, campaign_id: UUID, count: int, *, defer_until: datetime | None = None) -> None:
    for _ in range(count):
        await redis.enqueue_job(
            "send_campaign",
            str(campaign_id),
            _job_id=f"send:{campaign_id}:{uuid.uuid4().hex}",
            _defer_until=defer_until,
        )
