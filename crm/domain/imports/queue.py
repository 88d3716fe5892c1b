"""Queueing import jobs and finding the ones that died: what the sweeper needs, apart from the
import's rules (`crm.domain.imports.services`), so that a worker loads those only when it runs
an import."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from advanced_alchemy.config import SQLAlchemyAsyncConfig
from sqlalchemy import text

# A job silent for this long is taken for dead: the sweeper queues its batch again.
SILENT_AFTER = timedelta(minutes=3)

STALLED = text("""
UPDATE import_batch SET run_token = NULL, heartbeat_at = now()
WHERE status IN ('checking', 'applying')
  AND coalesce(heartbeat_at, updated_at) < now() - make_interval(secs => :silent)
RETURNING id
""")


async def enqueue_import(redis: Any, batch_id: UUID) -> None:
    # A fresh job id each time, so that a job stuck in a dead worker never blocks a new one.
    await redis.enqueue_job("run_import", str(batch_id), _job_id=f"import:{batch_id}:{uuid4().hex}")


async def stalled_imports(config: SQLAlchemyAsyncConfig, silent: timedelta = SILENT_AFTER) -> list[UUID]:
    """The batches whose job has been silent too long, made claimable again; queue a job for each."""
    async with config.get_engine().begin() as conn:
        return [row.id for row in await conn.execute(STALLED, {"silent": silent.total_seconds()})]
