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
            # The window starts at the first hit and is not stretched by later ones. SET NX EX then
            # INCR keeps the TTL; EXPIRE ... NX would too, but needs Redis 7 and the embedded
            # Redis of `crm up` is 6.2.
            pipe.set(w.key, 0, ex=w.seconds, nx=True)
            pipe.incr(w.key)
        await pipe.execute()


async def clear(redis: Redis, windows: list[Window]) -> None:
    await redis.delete(*(w.key for w in windows))
