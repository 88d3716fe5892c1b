"""Audiences for the sending tests: people and their subscriptions written in bulk, as a real
list of a few thousand would be, and the received messages counted per recipient."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.smtp import SmtpSink


async def make_audience(
    engine: AsyncEngine,
    list_id: UUID,
    count: int,
    *,
    prefix: str = "acteur",
    status: str = "subscribed",
    legal_basis: str = "consent",
) -> list[tuple[UUID, str]]:
    """`count` people subscribed to the list; returns (person id, e-mail)."""
    people = [(uuid.uuid4(), f"{prefix}{i:05d}@ville-exemple.fr") for i in range(count)]
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO person (id, first_name, last_name, email, language, created_at, updated_at) "
                "VALUES (:id, :first, :last, :email, 'fr', :now, :now)"
            ),
            [
                {"id": pid, "first": f"Prénom{i}", "last": "Lefèvre", "email": email, "now": now}
                for i, (pid, email) in enumerate(people)
            ],
        )
        await conn.execute(
            text(
                "INSERT INTO subscription (id, person_id, list_id, status, legal_basis, source, consented_at, "
                "created_at, updated_at) VALUES (:id, :pid, :list_id, CAST(:status AS subscription_status), "
                "CAST(:basis AS legal_basis), 'test', :now, :now, :now)"
            ),
            [
                {"id": uuid.uuid4(), "pid": pid, "list_id": list_id, "status": status, "basis": legal_basis, "now": now}
                for pid, _ in people
            ],
        )
    return people


async def suppress(engine: AsyncEngine, email: str, reason: str = "manual") -> None:
    from crm.domain.lists.services import suppression_hash

    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO suppression (id, email_hash, reason, created_at, updated_at) "
                "VALUES (:id, :h, CAST(:reason AS suppression_reason), now(), now())"
            ),
            {"id": uuid.uuid4(), "h": suppression_hash(email), "reason": reason},
        )


def received_per_address(smtp: SmtpSink) -> Counter[str]:
    with smtp.lock:
        return Counter(r for m in smtp.messages for r in m.recipients)


async def campaign_row(engine: AsyncEngine, campaign_id: str | UUID) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT * FROM campaign WHERE id = :id"), {"id": campaign_id})).one()


async def delivery_counts(engine: AsyncEngine, campaign_id: str | UUID) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT status, count(*) FROM delivery WHERE campaign_id = :id GROUP BY status"), {"id": campaign_id}
        )
        return {status: count for status, count in rows}
