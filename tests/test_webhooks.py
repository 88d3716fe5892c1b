"""Partner webhooks end to end: an endpoint registered by staff, contact events emitted in a
transaction, a real worker delivering them over HTTP to a receiver on loopback (allowed by the
development setting), signatures checked with the `standardwebhooks` package (an implementation of
the specification that is not ours), retries, a 410, replays, the SSRF refusals, and a worker
killed with SIGKILL mid-way."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks.webhooks import Webhook

from crm.config import Settings
from crm.domain.webhooks import deliveries
from crm.domain.webhooks.events import emit, wake
from crm.domain.webhooks.schemas import EndpointCreate
from crm.domain.webhooks.services import WebhookEndpointService
from crm.lib.redis import connect_redis
from crm.lib.services import after_commit, alchemy_config, open_session, provide_services
from tests.test_sending_crash import ROOT, stop, wait_for, worker_env
from tests.webhook_peer import receiver


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    copy = base_settings.model_copy(deep=True)
    copy.webhooks.allow_loopback = True
    return copy


async def make_partner(engine: AsyncEngine, name: str = "Villes de France", *, partner: bool = True) -> uuid.UUID:
    organisation_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO organisation (id, kind, name, is_partner, created_at, updated_at) "
                "VALUES (:id, 'association', :name, :partner, now(), now())"
            ),
            {"id": organisation_id, "name": name, "partner": partner},
        )
    return organisation_id


async def register(client: AsyncTestClient[Any], organisation_id: uuid.UUID, url: str) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/webhooks",
        json={
            "organisation_id": str(organisation_id),
            "url": url,
            "event_types": ["contact.created", "contact.updated"],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def tell(settings: Settings, organisation_id: uuid.UUID, event_type: str, data: dict[str, Any]) -> None:
    """A contact change and its message, committed together, then the worker woken, as the partner
    feed will do it."""
    config = alchemy_config(settings)
    redis = connect_redis(settings.redis.url)
    async with open_session(config) as session:
        await emit(session, organisation_id, event_type, data)
        after_commit(session, lambda: wake(redis))
    await config.get_engine().dispose()
    await redis.aclose()


async def nudge(settings: Settings) -> None:
    redis = connect_redis(settings.redis.url)
    await wake(redis)
    await redis.aclose()


async def rows(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(text("SELECT * FROM webhook_delivery ORDER BY created_at, id")))


async def endpoint(client: AsyncTestClient[Any], endpoint_id: str) -> dict[str, Any]:
    return (await client.get(f"/api/v1/webhooks/{endpoint_id}")).json()


def verified(secret: str, message: Any) -> Any:
    return Webhook(secret).verify(message.body, message.headers)


async def test_signed_as_the_specification_says_also_during_a_rotation(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Settings, run_worker: Any
) -> None:
    partner = await make_partner(engine)
    with receiver() as peer:
        created = await register(admin_client, partner, peer.url)
        secret = created["secret"]
        assert secret.startswith("whsec_")
        assert "secret" not in await endpoint(admin_client, created["id"])  # shown once only
        contact = {"id": str(uuid.uuid4()), "first_name": "Zoé", "email": "zoe@ville-exemple.fr"}
        await tell(settings, partner, "contact.created", contact)
        await tell(settings, partner, "contact.deleted", {"id": contact["id"]})  # not subscribed: not sent
        await run_worker()
        assert len(peer.received) == 1
        payload = verified(secret, peer.received[0])
        assert payload["type"] == "contact.created"
        assert payload["data"] == contact

        rotated = (await admin_client.post(f"/api/v1/webhooks/{created['id']}/rotate-secret")).json()
        new_secret = rotated["secret"]
        assert new_secret != secret
        await tell(settings, partner, "contact.updated", contact | {"first_name": "Zoë"})
        await run_worker()
        message = peer.received[1]
        assert len(message.headers["webhook-signature"].split(" ")) == 2
        # A partner still on the old secret and one already on the new both accept it.
        assert verified(secret, message)["data"]["first_name"] == "Zoë"
        assert verified(new_secret, message)["type"] == "contact.updated"
    assert [r.status for r in await rows(engine)] == ["sent", "sent"]


async def test_retries_after_a_500_a_410_disables_and_staff_replay(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Settings, run_worker: Any
) -> None:
    partner = await make_partner(engine)
    with receiver() as peer:
        created = await register(admin_client, partner, peer.url)
        peer.answer(500)
        await tell(settings, partner, "contact.created", {"id": "p1"})
        await run_worker()
        (first,) = await rows(engine)
        assert (first.status, first.attempts) == ("queued", 1)
        assert first.smtp_response.startswith("500")
        assert first.next_attempt_at > datetime.now(UTC)  # the first retry waits 5 s
        assert (await endpoint(admin_client, created["id"]))["failing_since"] is not None
        async with engine.begin() as conn:  # the 5 s pass; the sweep wakes a job for the row due
            await conn.execute(text("UPDATE webhook_delivery SET next_attempt_at = now()"))
        await nudge(settings)
        await run_worker()
        (first,) = await rows(engine)
        assert (first.status, first.attempts) == ("sent", 2)
        assert peer.ids() == [first.message_id, first.message_id]  # the same webhook-id on each try
        assert (await endpoint(admin_client, created["id"]))["failing_since"] is None

        peer.answer(410)
        await tell(settings, partner, "contact.updated", {"id": "p1"})
        await run_worker()
        gone = await endpoint(admin_client, created["id"])
        assert gone["enabled"] is False
        assert "410" in gone["disabled_reason"]
        await tell(settings, partner, "contact.updated", {"id": "p2"})  # nothing for a disabled endpoint
        listed = (await admin_client.get("/api/v1/webhook-deliveries", params={"endpoint_id": created["id"]})).json()
        assert [(d["status"], d["response"][:3]) for d in listed["items"]] == [("failed", "410"), ("sent", "200")]

        assert (await admin_client.post(f"/api/v1/webhooks/{created['id']}/enable")).json()["enabled"] is True
        since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        replay = await admin_client.post(f"/api/v1/webhooks/{created['id']}/replay", json={"since": since})
        assert replay.json() == {"replayed": 1}
        again = await admin_client.post(f"/api/v1/webhooks/{created['id']}/replay", json={"since": since})
        assert again.json() == {"replayed": 0}  # each failure is replayed once
        one = await admin_client.post(f"/api/v1/webhook-deliveries/{first.id}/replay")
        assert one.status_code == 201
        assert one.json()["message_id"] == first.message_id
        await run_worker()
        gone_id = listed["items"][0]["message_id"]
        assert peer.ids()[-2:] in ([gone_id, first.message_id], [first.message_id, gone_id])

        # Days of failures: an endpoint failing since before CRM_WEBHOOKS_DISABLE_AFTER_HOURS that
        # fails once more is disabled, with the reason and the last answer.
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE webhook_endpoint SET failing_since = now() - interval '121 hours'"))
        peer.answer(503)
        await tell(settings, partner, "contact.updated", {"id": "p3"})
        await run_worker()
        tired = await endpoint(admin_client, created["id"])
        assert tired["enabled"] is False
        assert "for more than 120 hours" in tired["disabled_reason"]
        assert "503" in tired["disabled_reason"]
    statuses = sorted(r.status for r in await rows(engine))
    assert statuses == ["failed", "queued", "sent", "sent", "sent"]  # the 503 waits for its retry


async def test_urls_off_limits_are_refused_at_registration(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Settings
) -> None:
    settings.webhooks.allow_loopback = False
    partner = await make_partner(engine)
    for url in (
        "https://127.0.0.1/hooks",
        "https://10.0.0.1/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://localhost/hooks",  # a name that resolves to loopback
        "http://partner.example.org/hooks",
        "https://user:pw@partner.example.org/hooks",
    ):
        response = await admin_client.post(
            "/api/v1/webhooks", json={"organisation_id": str(partner), "url": url, "event_types": ["contact.created"]}
        )
        assert response.status_code == 422, (url, response.text)
        assert response.json()["errors"][0]["field"] == "url"
    assert (await admin_client.get("/api/v1/webhooks")).json()["total"] == 0


async def test_checked_again_when_sent_and_redirects_are_not_followed(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Settings, run_worker: Any
) -> None:
    partner = await make_partner(engine)
    with receiver() as peer:
        await register(admin_client, partner, peer.url)
        peer.answer(302, location=f"http://127.0.0.1:{peer.port}/elsewhere")
        await tell(settings, partner, "contact.created", {"id": "p1"})
        await run_worker()
        (redirected,) = await rows(engine)
        assert redirected.status == "failed"
        assert "redirects are not followed" in redirected.smtp_response
        assert [r.path for r in peer.received] == ["/hooks"]

        # The same endpoint, once loopback is no longer allowed (a name that now resolves to this
        # machine, as after a DNS change): the connection is refused, nothing reaches the peer.
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE webhook_endpoint SET url = :url"), {"url": f"http://localhost:{peer.port}/hooks"}
            )
        await tell(settings, partner, "contact.created", {"id": "p2"})
        strict = settings.model_copy(deep=True)
        strict.webhooks.allow_loopback = False
        config = alchemy_config(strict)
        try:
            from crm.lib.redis import connect_redis

            redis = connect_redis(strict.redis.url)
            assert await deliveries.deliver_due(strict, config, redis, "test") == 0
            await redis.aclose()
        finally:
            await config.get_engine().dispose()
        refused = (await rows(engine))[1]
        assert refused.status == "failed"
        assert "127.0.0.1 (loopback)" in refused.smtp_response or "::1 (loopback)" in refused.smtp_response
        assert len(peer.received) == 1


async def test_the_partner_side_sees_only_its_own_endpoints(engine: AsyncEngine, settings: Settings) -> None:
    """What the partner controller calls, with the partner's organisation id from its API key."""
    from advanced_alchemy.exceptions import NotFoundError

    from crm.lib.listing import ListQuery

    a, b, member = (
        await make_partner(engine, "A"),
        await make_partner(engine, "B"),
        await make_partner(engine, "Ville", partner=False),
    )
    config = alchemy_config(settings)
    data = EndpointCreate(url="http://127.0.0.1:9/hooks", event_types=["contact.created"])
    async with provide_services(config, WebhookEndpointService) as (service,):
        mine = await service.register(a, data, settings.webhooks)
        await service.register(b, data, settings.webhooks)
        listing = ListQuery(limit=25, offset=0, sort=None, q=None)
        items, total = await service.list_endpoints(listing, organisation_id=a)
        assert (total, [e.id for e in items]) == (1, [mine.id])
        with pytest.raises(NotFoundError):
            await service.remove(mine.id, organisation_id=b)
        with pytest.raises(Exception, match="partner"):
            await service.register(member, data, settings.webhooks)
        await service.remove(mine.id, organisation_id=a)
    await config.get_engine().dispose()


@pytest.mark.slow
async def test_a_worker_killed_mid_delivery_loses_nothing(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Settings
) -> None:
    """60 messages, a worker killed with SIGKILL after 20 arrived, another started: each message
    arrives, duplicates at most the deliveries in flight (one per lane), with the same webhook-id."""
    partner = await make_partner(engine)
    with receiver() as peer:
        await register(admin_client, partner, peer.url)
        peer.delay = 0.02
        config = alchemy_config(settings)
        async with open_session(config) as session:
            for i in range(60):
                await emit(session, partner, "contact.updated", {"id": f"p{i}"})
        await config.get_engine().dispose()
        env = worker_env(settings) | {"CRM_WEBHOOKS_ALLOW_LOOPBACK": "true", "CRM_WEBHOOKS_LANES": "4"}

        def start() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, "-m", "crm.cli", "worker"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

        worker = start()
        try:

            async def some_arrived() -> bool:
                return len(peer.received) >= 20

            await wait_for(some_arrived, 60, "20 webhooks")
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            worker = start()

            async def all_answered() -> bool:
                async with engine.connect() as conn:
                    return not await conn.scalar(
                        text("SELECT count(*) FROM webhook_delivery WHERE status IN ('queued', 'leased')")
                    )

            await wait_for(all_answered, 60, "every delivery to be answered")
        finally:
            stop(worker)
    sent = [json.loads(r.body)["data"]["id"] for r in peer.received]
    assert set(sent) == {f"p{i}" for i in range(60)}
    assert len(sent) - 60 <= 4
    assert {r.status for r in await rows(engine)} == {"sent"}
