"""The sending rate is shared by all workers through Redis."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from crm.lib import ratelimit
from crm.lib.redis import connect_redis


async def test_two_workers_together_stay_under_the_rate(redis_url: str) -> None:
    one, two = connect_redis(redis_url), connect_redis(redis_url)
    workers = [one, two]  # two workers, 3 messages/s between them
    slots: Counter[int] = Counter()
    key = f"test:send-rate:{time.time_ns()}"

    async def send(redis: object) -> None:
        await ratelimit.pace(redis, key, 3)  # type: ignore[arg-type]
        slots[int(time.time())] += 1

    started = time.monotonic()
    await asyncio.gather(*(send(workers[i % 2]) for i in range(9)))
    elapsed = time.monotonic() - started
    await one.aclose()
    await two.aclose()
    # Nine messages at three a second need at least two more one-second windows after the first.
    assert elapsed >= 1.0
    assert len(slots) >= 3
    assert sum(slots.values()) == 9
