"""Fixed-window counters in Redis, so that every API process shares one limit."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis


@dataclass(frozen=True, slots=True)
class Window:
    key: str
    limit: int
    seconds: int


async def blocked_for(redis: Redis, windows: list[Window]) -> int:
    """Seconds until the first full window frees, or 0 when none is full."""
    async with redis.pipeline(transaction=False) as pipe:
        for w in windows:
            pipe.get(w.key)
            pipe.ttl(w.key)
        values = await pipe.execute()
    wait = 0
    for i, w in enumerate(windows):
        count, ttl = values[2 * i], values[2 * i + 1]
        if count is not None and int(count) >= w.limit:
            wait = max(wait, ttl if ttl and ttl > 0 else w.seconds)
    return wait


async def hit(redis: Redis, windows: list[Window]) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        for w in windows:
            pipe.incr(w.key)
            # NX: the window starts at the first hit and is not stretched by later ones.
            pipe.expire(w.key, w.seconds, nx=True)
        await pipe.execute()


async def clear(redis: Redis, windows: list[Window]) -> None:
    await redis.delete(*(w.key for w in windows))
