"""Partner webhooks fed from the contact change log: a partner that registered an endpoint through
the partner API is told, signed, of each change to the contacts shared with it (created, updated,
no longer shared), once each, by the same rule as its pulls; a partner without a convention in
force hears nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks.webhooks import Webhook

from crm.config import Settings
from crm.lib.redis import QUEUE_NAME
from tests.partner_helpers import Partner, make_partner, make_shared_people
from tests.webhook_peer import Receiver, receiver

EVENTS = ["contact.created", "contact.updated", "contact.deleted"]


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    copy = base_settings.model_copy(deep=True)
    copy.webhooks.allow_loopback = True
    return copy


async def register(client: AsyncTestClient[Litestar], partner: Partner, peer: Receiver) -> str:
    answer = await client.post(
        "/api/v1/partner/webhooks", headers=partner.headers, json={"url": peer.url, "event_types": EVENTS}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["secret"])


async def tell_and_send(redis_url: str, run_worker: Any) -> None:
    """What the worker's cron does: a round of the change log, then the webhook sender."""
    redis = Redis.from_url(redis_url)
    from arq.connections import ArqRedis

    await ArqRedis(connection_pool=redis.connection_pool).enqueue_job("tell_partners", _queue_name=QUEUE_NAME)
    await redis.aclose()
    await run_worker()


def told(peer: Receiver, secret: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for message in peer.received:
        payload = Webhook(secret).verify(message.body, message.headers)
        events.append((payload["type"], payload["data"]))
    return events


async def test_a_partner_is_told_of_its_shared_contacts_changes_once_each(
    client: AsyncTestClient[Litestar], engine: AsyncEngine, redis_url: str, run_worker: Any
) -> None:
    listening = await make_partner(engine, "Villes moyennes")
    lapsed = await make_partner(engine, "Petites villes", in_force=False)
    with receiver() as peer, receiver() as other_peer:
        secret = await register(client, listening, peer)
        await register(client, lapsed, other_peer)
        zoe, yann = await make_shared_people(engine, 2)

        await tell_and_send(redis_url, run_worker)
        first = told(peer, secret)
        assert sorted((kind, data["id"]) for kind, data in first) == sorted(
            [("contact.created", str(zoe)), ("contact.created", str(yann))]
        )

        async with engine.begin() as conn:
            await conn.execute(text("UPDATE person SET first_name = 'Zoé' WHERE id = :id"), {"id": zoe})
            await conn.execute(
                text("UPDATE partner_sharing_consent SET withdrawn_at = now() WHERE person_id = :id"), {"id": yann}
            )
        await tell_and_send(redis_url, run_worker)
        await tell_and_send(redis_url, run_worker)  # nothing new: nothing more

        events = told(peer, secret)
        later = dict(events[len(first) :])
        assert sorted(later) == ["contact.deleted", "contact.updated"]
        assert later["contact.deleted"] == {"id": str(yann)}  # a tombstone: no longer shared
        assert later["contact.updated"]["id"] == str(zoe)
        assert later["contact.updated"]["first_name"] == "Zoé"
        assert len(events) == 4
        assert len({m.headers["webhook-id"] for m in peer.received}) == 4
        assert other_peer.received == []  # no convention in force: nothing is shared with it


async def test_a_partner_sees_and_deletes_only_its_own_endpoints(
    client: AsyncTestClient[Litestar], engine: AsyncEngine
) -> None:
    mine, theirs = await make_partner(engine, "Villes moyennes"), await make_partner(engine, "Petites villes")
    with receiver() as peer:
        await register(client, mine, peer)
        await register(client, theirs, peer)
        listed = (await client.get("/api/v1/partner/webhooks", headers=mine.headers)).json()
        assert len(listed["items"]) == 1
        their_id = (await client.get("/api/v1/partner/webhooks", headers=theirs.headers)).json()["items"][0]["id"]
        assert (await client.delete(f"/api/v1/partner/webhooks/{their_id}", headers=mine.headers)).status_code == 404
        assert (await client.get("/api/v1/partner/webhooks")).status_code == 401
    body = json.dumps({"url": "https://example.org/hooks", "event_types": EVENTS})
    reader_only = await make_partner(engine, "Lecteurs", scopes=["events:read"])
    answer = await client.post(
        "/api/v1/partner/webhooks", headers=reader_only.headers | {"content-type": "application/json"}, content=body
    )
    assert answer.status_code == 403
