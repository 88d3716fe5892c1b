"""Staff sessions, kept in Redis so that every API process sees them.

The cookie holds a random token; Redis holds, under the token's hash, who is logged in, their
role and the session's CSRF token. Changing a person's role or deactivating them revokes their
sessions, so the role read here is never stale.

Each API process keeps the sessions it read in a `SessionCache` (a session check is then a
dictionary lookup instead of a Redis round trip on every request). Ending a session publishes
its hash on a Redis channel that every process listens to, and the process that ends it forgets
it, and answers once its own announcement came back through Redis (which writes a message to
every subscriber at the same time): a session logged out, or of a person deactivated or given
another role, is refused everywhere by the time the answer arrives. A process that is not
subscribed (Redis down, the subscription lost) uses no cache at all."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import asdict, dataclass
from uuid import UUID

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from crm.lib.security import new_token, token_hash

log = structlog.get_logger(__name__)

# Where ended sessions are announced to every API process: the hashes, space-separated.
ENDED_CHANNEL = "crm:sessions-ended"


@dataclass(frozen=True, slots=True)
class StaffSession:
    staff_id: str
    role: str
    csrf_token: str

    @property
    def staff_uuid(self) -> UUID:
        return UUID(self.staff_id)


def _key(token: str) -> str:
    return _digest_key(token_hash(token))


def _digest_key(digest: str) -> str:
    return f"crm:session:{digest}"


def _index_key(staff_id: UUID | str) -> str:
    return f"crm:staff-sessions:{staff_id}"


async def open_session(redis: Redis, staff_id: UUID, role: str, ttl: int) -> tuple[str, StaffSession]:
    token = new_token()
    session = StaffSession(staff_id=str(staff_id), role=role, csrf_token=new_token())
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(_key(token), json.dumps(asdict(session)), ex=ttl)
        pipe.sadd(_index_key(staff_id), token_hash(token))
        pipe.expire(_index_key(staff_id), ttl)
        await pipe.execute()
    return token, session


async def load_session(redis: Redis, token: str) -> StaffSession | None:
    raw = await redis.get(_key(token))
    if raw is None:
        return None
    return StaffSession(**json.loads(raw))


async def close_session(redis: Redis, token: str, staff_id: UUID | str, cache: SessionCache | None = None) -> None:
    digest = token_hash(token)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(_key(token))
        pipe.srem(_index_key(staff_id), digest)
        await pipe.execute()
    await announce_ended(redis, [digest], cache)


async def revoke_all(redis: Redis, staff_id: UUID | str, cache: SessionCache | None = None) -> None:
    hashes = [h.decode() if isinstance(h, bytes) else h for h in await redis.smembers(_index_key(staff_id))]  # type: ignore[misc]
    await redis.delete(*[_digest_key(h) for h in hashes], _index_key(staff_id))
    await announce_ended(redis, hashes, cache)


async def announce_ended(redis: Redis, hashes: list[str], cache: SessionCache | None) -> None:
    """Tells every API process to forget these sessions. With this process's cache, it forgets
    them first, then waits (a second at most) until its own announcement came back through
    Redis: Redis hands a message to every subscriber at once, so by the time the answer leaves,
    the other processes have it too."""
    if not hashes:
        return
    if cache is None:
        await redis.publish(ENDED_CHANNEL, " ".join(hashes))
        return
    cache.forget(hashes)
    await cache.announce(hashes)


class SessionCache:
    """The sessions this process read lately, by token hash, each kept `max_age` seconds at most
    (never past the session's own expiry), forgotten when a message on `ENDED_CHANNEL` names it.
    Used only while `listen()` is subscribed: a message lost to a dropped connection cannot leave
    an ended session standing, since the cache is emptied and bypassed until subscribed again."""

    def __init__(self, redis: Redis, *, max_age: float = 10.0, max_entries: int = 10_000) -> None:
        self.redis = redis
        self.max_age = max_age
        self.max_entries = max_entries
        self.subscribed = False
        # Counts announcements and lost subscriptions: a read that one came during is not cached.
        self._generation = 0
        self._entries: dict[str, tuple[StaffSession, float]] = {}
        self._awaited: dict[str, asyncio.Future[None]] = {}  # announcement nonce -> its return

    async def load(self, token: str) -> StaffSession | None:
        digest = token_hash(token)
        if self.subscribed:
            entry = self._entries.get(digest)
            if entry is not None:
                if entry[1] > time.monotonic():
                    return entry[0]
                del self._entries[digest]
        generation = self._generation
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(_digest_key(digest))
            pipe.pttl(_digest_key(digest))
            raw, ttl_ms = await pipe.execute()
        if raw is None:
            return None
        session = StaffSession(**json.loads(raw))
        # Only cache what no announcement or lost subscription came between the read and now:
        # an end announced meanwhile may be of this very session, read just before it ended.
        if generation == self._generation and self.subscribed and ttl_ms > 0:
            if len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[digest] = (session, time.monotonic() + min(self.max_age, ttl_ms / 1000))
        return session

    def forget(self, hashes: Iterable[str]) -> None:
        self._generation += 1
        for digest in hashes:
            self._entries.pop(digest, None)

    async def announce(self, hashes: list[str]) -> None:
        nonce = new_token()
        returned = asyncio.get_running_loop().create_future()
        waiting = self.subscribed
        if waiting:
            self._awaited[nonce] = returned
        try:
            await self.redis.publish(ENDED_CHANNEL, " ".join([f"@{nonce}", *hashes]))
            if waiting:
                with suppress(TimeoutError):
                    await asyncio.wait_for(returned, 1.0)
        finally:
            self._awaited.pop(nonce, None)

    def _received(self, data: str) -> None:
        words = data.split()
        self.forget(w for w in words if not w.startswith("@"))
        for word in words:
            if word.startswith("@") and (returned := self._awaited.get(word[1:])) and not returned.done():
                returned.set_result(None)

    def _unsubscribed(self) -> None:
        self._generation += 1
        self.subscribed = False
        self._entries.clear()

    async def listen(self) -> None:
        """Runs for the life of the process: subscribes, forgets what is announced, and starts
        again after a lost connection."""
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(ENDED_CHANNEL)
                    while True:
                        message = await pubsub.get_message(timeout=1.0)
                        if message is None:
                            continue
                        if message["type"] == "subscribe":
                            self._generation += 1
                            self._entries.clear()
                            self.subscribed = True
                        elif message["type"] == "message":
                            data = message["data"]
                            self._received(data.decode() if isinstance(data, bytes) else data)
            except (RedisError, OSError):
                # redis-py may turn a cancellation into a timeout: the process is stopping then.
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError from None
                log.warning("session_channel_lost")
            finally:
                self._unsubscribed()
            await asyncio.sleep(1.0)
