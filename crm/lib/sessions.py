"""Staff sessions, kept in Redis so that every API process sees them.

The cookie holds a random token; Redis holds, under the token's hash, who is logged in, their
role and the session's CSRF token. Changing a person's role or deactivating them revokes their
sessions, so the role read here is never stale."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from uuid import UUID

from redis.asyncio import Redis

from crm.lib.security import new_token, token_hash


@dataclass(frozen=True, slots=True)
class StaffSession:
    staff_id: str
    role: str
    csrf_token: str

    @property
    def staff_uuid(self) -> UUID:
        return UUID(self.staff_id)


def _key(token: str) -> str:
    return f"crm:session:{token_hash(token)}"


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


async def close_session(redis: Redis, token: str, staff_id: UUID | str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(_key(token))
        pipe.srem(_index_key(staff_id), token_hash(token))
        await pipe.execute()


async def revoke_all(redis: Redis, staff_id: UUID | str) -> None:
    hashes = await redis.smembers(_index_key(staff_id))  # type: ignore[misc]
    keys = [f"crm:session:{h.decode() if isinstance(h, bytes) else h}" for h in hashes]
    await redis.delete(*keys, _index_key(staff_id))
