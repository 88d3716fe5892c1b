"""Fixed-window counters in Redis, so that every process shares one limit: the login throttle,
the public forms and the sending rate all count here."""

from __future__ import annotations

import asyncio
import time
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


@dataclass(frozen=True, slots=True)
class Backoff:
    """Progressive delay after failures (slow down, never lock): the first `free - 1` failures cost
    nothing, the `free`-th imposes `first_delay` seconds before the next attempt, each further one
    twice the previous, up to `max_delay`. Failures are forgotten `memory` seconds after the last."""

    key: str
    free: int
    memory: int
    first_delay: int
    max_delay: int

    @property
    def wait_key(self) -> str:
        return f"{self.key}:wait"

    def delay(self, failures: int) -> int:
        if failures < self.free:
            return 0
        return min(self.max_delay, self.first_delay * 2 ** min(failures - self.free, 32))


async def backoff_wait(redis: Redis, backoffs: list[Backoff]) -> int:
    """Seconds before the next attempt is allowed, or 0."""
    async with redis.pipeline(transaction=False) as pipe:
        for b in backoffs:
            pipe.ttl(b.wait_key)
        ttls = await pipe.execute()
    return max([int(t) for t in ttls if t and t > 0], default=0)


async def backoff_fail(redis: Redis, backoffs: list[Backoff]) -> int:
    """Counts a failure on each; returns the longest delay it imposed (0 when none)."""
    async with redis.pipeline(transaction=True) as pipe:
        for b in backoffs:
            pipe.incr(b.key)
            # Plain EXPIRE (Redis 6.2 has no NX/GT): each failure renews the memory.
            pipe.expire(b.key, b.memory)
        values = await pipe.execute()
    waits = {b.wait_key: b.delay(int(values[2 * i])) for i, b in enumerate(backoffs)}
    waits = {key: seconds for key, seconds in waits.items() if seconds}
    if waits:
        async with redis.pipeline(transaction=True) as pipe:
            for key, seconds in waits.items():
                pipe.set(key, 1, ex=seconds)
            await pipe.execute()
    return max(waits.values(), default=0)


async def backoff_forget(redis: Redis, backoffs: list[Backoff]) -> None:
    await redis.delete(*(k for b in backoffs for k in (b.key, b.wait_key)))


async def use(redis: Redis, window: Window) -> tuple[int, int]:
    """Counts one use; returns the uses so far in the window (this one included) and the seconds
    until it ends, for callers that tell the client (the RateLimit headers)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(window.key, 0, ex=window.seconds, nx=True)
        pipe.incr(window.key)
        pipe.ttl(window.key)
        _, count, ttl = await pipe.execute()
    return int(count), int(ttl) if ttl and ttl > 0 else window.seconds


async def take(redis: Redis, window: Window) -> bool:
    """Counts one use and says whether it was within the limit; concurrent requests cannot both
    take the last slot."""
    count, _ = await use(redis, window)
    return count <= window.limit


def per_second_window(prefix: str, per_second: float, now: float) -> Window:
    """The current window of a rate in messages per second: windows of 1 s, or longer for rates
    under one a second, aligned on the clock so that every process counts in the same one."""
    seconds = max(1.0, 1.0 / per_second)
    slot = int(now / seconds)
    return Window(f"{prefix}:{slot}", max(1, int(per_second * seconds)), int(seconds) + 2)


async def pace(redis: Redis, prefix: str, per_second: float) -> None:
    """Waits for a turn within a rate shared by every process (the sending rate): `take` in the
    current window, else sleep to the next one. A rate of 0 means no limit."""
    if per_second <= 0:
        return
    while True:
        now = time.time()
        window = per_second_window(prefix, per_second, now)
        if await take(redis, window):
            return
        seconds = max(1.0, 1.0 / per_second)
        await asyncio.sleep((int(now / seconds) + 1) * seconds - time.time() + 0.001)


async def try_pace(redis: Redis, prefix: str, per_second: float) -> bool:
    """A turn now, or False without waiting (the caller records first, then waits with `pace`)."""
    if per_second <= 0:
        return True
    return await take(redis, per_second_window(prefix, per_second, time.time()))
