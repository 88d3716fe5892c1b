"""Keeping a job's leases alive while it works, so that a lease can be short.

A lease is what tells the sweeper that a worker still holds a row. Short leases bring sending back
quickly after a worker dies, but a live worker must not lose its rows to the sweeper while one SMTP
answer is slow or the rate limit makes a batch last: the heartbeat renews every lease the job holds
every third of the lease time. A killed worker's heartbeat stops with it, and its leases expire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any, Literal

import structlog
from sqlalchemy import text

log = structlog.get_logger("jobs.leases")

# Both tables have a partial index on leased rows: this touches only the few rows leased now.
RENEW_ALL = {
    table: text(f"""
UPDATE {table} SET lease_expires_at = now() + make_interval(secs => :lease)
WHERE status = 'leased' AND leased_by = :owner
""")
    for table in ("delivery", "event_notification")
}


@asynccontextmanager
async def leases_kept(
    engine: Any, table: Literal["delivery", "event_notification"], owner: str, lease_seconds: float
) -> AsyncIterator[None]:
    async def beat() -> None:
        while True:
            await asyncio.sleep(max(1.0, lease_seconds / 3))
            try:
                async with engine.connect() as raw:
                    conn = await raw.execution_options(isolation_level="AUTOCOMMIT")
                    await conn.execute(RENEW_ALL[table], {"lease": lease_seconds, "owner": owner})
            except Exception:  # a missed beat is made up by the next one, or the lease expires
                log.warning("lease_renewal_failed", table=table, exc_info=True)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
