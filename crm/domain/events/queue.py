"""Putting the event-message job on the queue: no arguments, a fresh job id each time. Any number
of these jobs may run: each leases the rows it sends (see crm/domain/events/notifications.py)."""

from __future__ import annotations

import uuid
from typing import Any


async def enqueue_notifications(redis: Any) -> None:
    await redis.enqueue_job("send_event_notifications", _job_id=f"event-notifications:{uuid.uuid4().hex}")
