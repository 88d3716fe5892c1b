"""`Idempotency-Key` on partner writes, as the IETF httpapi draft says: the key is required; a
replay with the same body gets the first answer again; the same key with another body is a 422;
a replay while the first request still runs is a 409.

"Still runs" is a PostgreSQL advisory lock on (client, key) taken in the request's transaction:
it is released at commit or rollback, so a crashed request leaves no key stuck "in progress". The
first answer is stored in the same transaction as the writes it reports, so a stored answer always
matches what was written, and a request that failed stored nothing and may simply be sent again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.partner import PartnerIdempotentRequest
from crm.lib.problems import ProblemError, field_error

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@dataclass(slots=True)
class Idempotent:
    key: str
    request_hash: str
    replay: PartnerIdempotentRequest | None


def body_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


async def begin(session: AsyncSession, client_id: UUID, key: str | None, body: Any) -> Idempotent:
    if not key or not key.strip():
        raise ProblemError(
            400,
            f"Send an {HEADER} header (a fresh UUID per write) so that a retry cannot write twice",
            code="idempotency_key_missing",
            errors=[field_error(HEADER, "required", "missing")],
        )
    key = key.strip()
    if len(key) > MAX_KEY_LENGTH:
        raise ProblemError(400, f"{HEADER}: at most {MAX_KEY_LENGTH} characters", code="idempotency_key_invalid")
    lock_id = int.from_bytes(hashlib.sha256(f"{client_id}:{key}".encode()).digest()[:8], "big", signed=True)
    if not await session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": lock_id}):
        raise ProblemError(
            409,
            "A request with this Idempotency-Key is still being processed: retry once it has answered",
            code="idempotency_key_in_use",
        )
    request_hash = body_hash(body)
    stored = await session.scalar(
        select(PartnerIdempotentRequest).where(
            PartnerIdempotentRequest.client_id == client_id, PartnerIdempotentRequest.key == key
        )
    )
    if stored is not None and stored.request_hash != request_hash:
        raise ProblemError(
            422,
            "This Idempotency-Key was used for another request body: use a new key for a new request",
            code="idempotency_key_reused",
            errors=[field_error(HEADER, "used with another body", "idempotency_key_reused")],
        )
    return Idempotent(key=key, request_hash=request_hash, replay=stored)


def remember(session: AsyncSession, client_id: UUID, idempotent: Idempotent, status_code: int, answer: Any) -> None:
    session.add(
        PartnerIdempotentRequest(
            client_id=client_id,
            key=idempotent.key,
            request_hash=idempotent.request_hash,
            status_code=status_code,
            response=answer,
        )
    )


async def forget_old(session: AsyncSession, hours: int = 24) -> None:
    await session.execute(
        text("DELETE FROM partner_idempotent_request WHERE created_at < now() - make_interval(hours => :hours)"),
        {"hours": hours},
    )
