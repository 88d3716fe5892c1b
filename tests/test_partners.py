"""The partner API as partners and admins meet it: keys shown once, rotated and revoked; two
partners kept apart; pushes item by item; idempotent writes; the change feed under out-of-order
commits; the rate limit."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

import requests
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm.config import Settings
from crm.db.models.organisation import Organisation, OrganisationKind
from crm.db.models.suppression import Suppression, SuppressionReason
from crm.domain.outbox.suppression import suppression_hash
from crm.domain.partners.keys import checksum, lookup_id_of
from crm.lib.tokens import make_token
from tests.partner_helpers import contact, make_partner, make_shared_people
from tests.test_api_fuzz import live_server  # noqa: F401  (the fixture)

CONTACTS = "/api/v1/partner/contacts"


def write_headers(partner: Any, key: str | None = None) -> dict[str, str]:
    return {**partner.headers, "Idempotency-Key": key or str(uuid.uuid4())}


async def test_admins_create_rotate_and_revoke_a_client_whose_key_shows_once(
    admin_client: AsyncTestClient[Litestar], engine: AsyncEngine
) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        plain = Organisation(kind=OrganisationKind.ASSOCIATION, name="Pas partenaire")
        partner = Organisation(kind=OrganisationKind.ASSOCIATION, name="Villes moyennes", is_partner=True)
        session.add_all([plain, partner])
        await session.commit()
    refused = await admin_client.post(
        "/api/v1/api-clients", json={"organisation_id": str(plain.id), "name": "x", "scopes": ["contacts:read"]}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "organisation_id"

    created = await admin_client.post(
        "/api/v1/api-clients",
        json={"organisation_id": str(partner.id), "name": "Villes moyennes CRM", "scopes": ["contacts:read"]},
    )
    assert created.status_code == 201, created.text
    first = created.json()["key"]
    # Recognisable by a scanner, checked without the database, stored only as its hash.
    assert first.startswith("crmp_")
    assert lookup_id_of(first) is not None
    assert lookup_id_of(first[:-1] + ("A" if first[-1] != "A" else "B")) is None
    assert checksum(first[:-6]) == first[-6:]
    async with engine.connect() as conn:
        stored = (await conn.execute(text("SELECT key_hash FROM api_key"))).scalars().all()
    assert stored == [hashlib.sha256(first.encode()).hexdigest()]
    client_id = created.json()["id"]
    shown = await admin_client.get(f"/api/v1/api-clients/{client_id}")
    assert "key" not in shown.json()
    assert shown.json()["keys"][0]["hint"] == first[-4:]

    bearer = {"Authorization": f"Bearer {first}"}
    assert (await admin_client.get(CONTACTS, headers=bearer)).status_code == 200
    seen = (await admin_client.get(f"/api/v1/api-clients/{client_id}")).json()
    assert seen["last_used_at"] is not None
    assert seen["last_used_from"]
    # The read-only key may not write.
    assert (
        await admin_client.post(
            f"{CONTACTS}/batch", json={"contacts": [contact("x")]}, headers={**bearer, "Idempotency-Key": "k"}
        )
    ).status_code == 403

    # Rotation with an overlap: both keys work; without one, the old key stops at once.
    rotated = await admin_client.post(f"/api/v1/api-clients/{client_id}/rotate", json={"overlap_hours": 24})
    second = rotated.json()["key"]
    assert second != first
    for key in (first, second):
        assert (await admin_client.get(CONTACTS, headers={"Authorization": f"Bearer {key}"})).status_code == 200
    third = (await admin_client.post(f"/api/v1/api-clients/{client_id}/rotate", json={"overlap_hours": 0})).json()[
        "key"
    ]
    for key, status in ((first, 401), (second, 401), (third, 200)):
        assert (await admin_client.get(CONTACTS, headers={"Authorization": f"Bearer {key}"})).status_code == status

    assert (await admin_client.post(f"/api/v1/api-clients/{client_id}/revoke")).json()["revoked_at"]
    answer = await admin_client.get(CONTACTS, headers={"Authorization": f"Bearer {third}"})
    assert answer.status_code == 401
    assert answer.json()["code"] == "api_key_revoked"
    assert (await admin_client.get(CONTACTS)).status_code == 401


async def test_a_partner_never_reads_or_writes_another_partners_contacts(
    client: AsyncTestClient[Litestar], engine: AsyncEngine
) -> None:
    a = await make_partner(engine, "Partenaire A")
    b = await make_partner(engine, "Partenaire B")
    pushed = await client.post(
        f"{CONTACTS}/batch", json={"contacts": [contact("b-1", email="b1@example.org")]}, headers=write_headers(b)
    )
    assert pushed.status_code == 200, pushed.text
    b_person = pushed.json()["results"][0]["id"]
    # Not shared (no consent to sharing): neither A nor even B reads it back through the pull.
    assert (await client.get(f"{CONTACTS}/{b_person}", headers=a.headers)).status_code == 404
    assert (await client.get(f"{CONTACTS}/{uuid.uuid4()}", headers=a.headers)).status_code == 404
    # A's external id "b-1" is A's own: it creates another contact, B's stays as it was.
    mine = await client.post(
        f"{CONTACTS}/batch", json={"contacts": [contact("b-1", first_name="Autre")]}, headers=write_headers(a)
    )
    assert mine.json()["results"][0]["status"] == "created"
    assert mine.json()["results"][0]["id"] != b_person
    # A person shared with partners: A sees it without B's external id.
    (shared,) = await make_shared_people(engine, 1)
    await client.post(
        f"{CONTACTS}/batch",
        json={"contacts": [contact("b-shared", email="p0@example.org", first_name="Prénom0", last_name="Nom0")]},
        headers=write_headers(b),
    )
    seen_by_a = (await client.get(f"{CONTACTS}/{shared}", headers=a.headers)).json()
    seen_by_b = (await client.get(f"{CONTACTS}/{shared}", headers=b.headers)).json()
    assert seen_by_a["external_id"] is None
    assert seen_by_b["external_id"] == "b-shared"
    # Sync tokens are the partner's own.
    token = (await client.get(CONTACTS, headers=b.headers)).json()["sync_token"]
    stolen = await client.get(f"{CONTACTS}/changes", params={"sync_token": token}, headers=a.headers)
    assert stolen.status_code == 422
    assert stolen.json()["errors"][0]["field"] == "sync_token"
    # No convention in force: nothing is shared.
    c = await make_partner(engine, "Partenaire C", in_force=False)
    assert (await client.get(f"{CONTACTS}/{shared}", headers=c.headers)).status_code == 404
    assert (await client.get(CONTACTS, headers=c.headers)).json()["items"] == []


async def test_each_item_stands_alone_forbidden_fields_and_suppressed_addresses(
    client: AsyncTestClient[Litestar], engine: AsyncEngine
) -> None:
    a = await make_partner(engine, "Partenaire A")
    async with AsyncSession(engine) as session:
        session.add(
            Suppression(email_hash=suppression_hash("gone@example.org"), reason=SuppressionReason.UNSUBSCRIBED_ALL)
        )
        # A person erased at their request (right to erasure): a partner never brings them back.
        session.add(Suppression(email_hash=suppression_hash("effacee@example.org"), reason=SuppressionReason.ERASED))
        await session.commit()
    batch = [
        contact("1", email="Claire.Martin@Example.org"),
        contact("2", email="gone@example.org"),
        contact("3", notes="internal", subscribed=True),
        contact("4", legal_basis="because"),
        {"external_id": "5", "email": "new@example.org", "legal_basis": "consent", "source": "form"},
        contact("6", email="six@example.org", consent_text="Oui", proof_url="https://partner.example/proofs/6"),
        contact("8", email="Effacee@example.org"),
    ]
    answer = await client.post(f"{CONTACTS}/batch", json={"contacts": batch}, headers=write_headers(a))
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["created", "error", "error", "error", "error", "created", "error"]
    assert [e["code"] for e in results[1]["errors"]] == ["suppressed"]
    assert [e["code"] for e in results[6]["errors"]] == ["erased"]
    assert {e["field"] for e in results[2]["errors"]} == {"notes", "subscribed"}
    assert {e["code"] for e in results[2]["errors"]} == {"field_forbidden"}
    assert results[3]["errors"][0]["field"] == "legal_basis"
    assert {e["field"] for e in results[4]["errors"]} == {"first_name", "last_name"}
    assert answer.json()["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "error": 5}
    async with engine.connect() as conn:
        emails = set((await conn.execute(text("SELECT email FROM person"))).scalars())
        proof = (
            await conn.execute(
                text("SELECT legal_basis, consent_text, proof_url FROM partner_contact WHERE external_id = '6'")
            )
        ).one()
    assert emails == {"claire.martin@example.org", "six@example.org"}
    assert tuple(proof) == ("legitimate_interest", "Oui", "https://partner.example/proofs/6")

    # Again: unchanged; then matched on the external id, and on e-mail for a new external id.
    again = [contact("1", email="claire.martin@example.org"), contact("6", email="six@example.org", phone="0102030405")]
    results = (await client.post(f"{CONTACTS}/batch", json={"contacts": again}, headers=write_headers(a))).json()[
        "results"
    ]
    assert [r["status"] for r in results] == ["unchanged", "updated"]
    taken = await client.post(
        f"{CONTACTS}/batch", json={"contacts": [contact("7", email="six@example.org")]}, headers=write_headers(a)
    )
    assert taken.json()["results"][0]["errors"][0]["code"] == "email_taken"
    too_many = await client.post(
        f"{CONTACTS}/batch", json={"contacts": [contact(str(i)) for i in range(501)]}, headers=write_headers(a)
    )
    assert too_many.status_code in (400, 422), too_many.text


async def test_writes_are_idempotent_replay_other_body_and_in_flight(
    client: AsyncTestClient[Litestar],
    engine: AsyncEngine,
    live_server: str,  # noqa: F811  (the fixture imported above)
) -> None:
    a = await make_partner(engine, "Partenaire A")
    body = {"contacts": [contact("1", email="one@example.org")]}
    missing = await client.post(f"{CONTACTS}/batch", json=body, headers=a.headers)
    assert missing.status_code == 400
    first = await client.post(f"{CONTACTS}/batch", json=body, headers=write_headers(a, "key-1"))
    replay = await client.post(f"{CONTACTS}/batch", json=body, headers=write_headers(a, "key-1"))
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert first.json()["results"][0]["status"] == "created"
    other = await client.post(f"{CONTACTS}/batch", json={"contacts": [contact("2")]}, headers=write_headers(a, "key-1"))
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"

    # A first request held mid-way (its person row locked by another transaction): the replay gets
    # a 409 while it runs, then the first one answers. A real server: the test client runs one
    # request at a time.
    person_id = first.json()["results"][0]["id"]
    changed = {"contacts": [contact("1", email="one@example.org", first_name="Changée")]}

    def post() -> requests.Response:
        return requests.post(
            f"{live_server}{CONTACTS}/batch", json=changed, headers=write_headers(a, "key-2"), timeout=30
        )

    async with engine.connect() as blocker:
        await blocker.execute(text("SELECT 1 FROM person WHERE id = :id FOR UPDATE"), {"id": person_id})
        running = asyncio.create_task(asyncio.to_thread(post))
        async with engine.connect() as watcher:
            # The lock is in PostgreSQL: polling it is the only way to see the request get there.
            while not await watcher.scalar(  # noqa: ASYNC110
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
            ):
                await asyncio.sleep(0.01)
        second = await asyncio.to_thread(post)
        assert second.status_code == 409
        assert second.json()["code"] == "idempotency_key_in_use"
        await blocker.rollback()
    done = await running
    assert done.status_code == 200
    assert done.json()["results"][0]["status"] == "updated"


async def _pull(client: AsyncTestClient[Litestar], partner: Any, token: str) -> tuple[list[dict[str, Any]], str]:
    items: list[dict[str, Any]] = []
    while True:
        page = await client.get(
            f"{CONTACTS}/changes", params={"sync_token": token, "limit": 2}, headers=partner.headers
        )
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        token = page.json()["sync_token"]
        if not page.json()["has_more"]:
            return items, token


async def test_the_sync_misses_and_repeats_nothing_when_writes_commit_out_of_order(
    client: AsyncTestClient[Litestar], engine: AsyncEngine
) -> None:
    a = await make_partner(engine, "Partenaire A")
    people = await make_shared_people(engine, 5)
    listed, cursor = [], None
    while True:
        page = (
            await client.get(CONTACTS, params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=a.headers)
        ).json()
        listed += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            token = page["sync_token"]
            break
    assert sorted(listed) == sorted(map(str, people))

    # T1 writes first (lower sequence number) but commits last; T2 commits in between.
    async with engine.connect() as t1, engine.connect() as t2:
        await t1.execute(text("UPDATE person SET first_name = 'Un' WHERE id = :id"), {"id": people[0]})
        await t2.execute(text("UPDATE person SET first_name = 'Deux' WHERE id = :id"), {"id": people[1]})
        await t2.commit()
        during, token = await _pull(client, a, token)
        await t1.commit()
    after, token = await _pull(client, a, token)
    # An erased person and a withdrawn consent come as tombstones; a staff edit of notes is not news.
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM person WHERE id = :id"), {"id": people[2]})
        await conn.execute(
            text("UPDATE partner_sharing_consent SET withdrawn_at = now() WHERE person_id = :id"), {"id": people[3]}
        )
        await conn.execute(text("UPDATE person SET notes = 'interne' WHERE id = :id"), {"id": people[4]})
    last, token = await _pull(client, a, token)
    quiet, _ = await _pull(client, a, token)

    seen = [(i["id"], i["deleted"], (i["contact"] or {}).get("first_name")) for i in during + after + last + quiet]
    assert sorted(seen) == sorted(
        [
            (str(people[0]), False, "Un"),
            (str(people[1]), False, "Deux"),
            (str(people[2]), True, None),
            (str(people[3]), True, None),
        ]
    )
    # And nothing about a person never shared with this partner.
    stranger = await client.post(f"{CONTACTS}/batch", json={"contacts": [contact("x")]}, headers=write_headers(a))
    assert stranger.status_code == 200
    assert (await _pull(client, a, token))[0] == []


async def test_an_expired_sync_token_answers_410(
    client: AsyncTestClient[Litestar], engine: AsyncEngine, settings: Settings
) -> None:
    a = await make_partner(engine, "Partenaire A")
    old = make_token(
        settings.security.secret_key.get_secret_value(),
        "partner-sync",
        {"o": str(a.organisation_id), "lo": 1, "hi": None, "s": 0},
        issued_at=0,
    )
    gone = await client.get(f"{CONTACTS}/changes", params={"sync_token": old}, headers=a.headers)
    assert gone.status_code == 410
    assert gone.json()["code"] == "sync_token_expired"
    # The worker drops the change log past a token's life (and only that).
    from crm.lib.services import alchemy_config
    from jobs.partners import forget_partner_history

    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO contact_change (person_id, changed_at) VALUES "
                "(gen_random_uuid(), now() - interval '31 days'), (gen_random_uuid(), now())"
            )
        )
    config = alchemy_config(settings)
    await forget_partner_history({"db_config": config, "settings": settings})
    await config.get_engine().dispose()
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM contact_change")) == 1


async def test_each_key_is_rate_limited_with_retry_after_and_ratelimit_headers(
    settings: Settings, engine: AsyncEngine
) -> None:
    from crm.app import create_app

    settings.partner.rate_limit = 3
    a = await make_partner(engine, "Partenaire A")
    b = await make_partner(engine, "Partenaire B")
    async with AsyncTestClient(app=create_app(settings)) as client:
        answers = [await client.get(CONTACTS, headers=a.headers) for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert answers[0].headers["ratelimit-policy"] == '"partner";q=3;w=60'
        assert answers[0].headers["ratelimit"].startswith('"partner";r=2;t=')
        assert int(answers[3].headers["retry-after"]) > 0
        assert answers[3].headers["ratelimit"].startswith('"partner";r=0;')
        assert (await client.get(CONTACTS, headers=b.headers)).status_code == 200  # per key
        async with engine.connect() as conn:
            audited = (
                await conn.execute(
                    text("SELECT actor_type, changes->>'client' FROM audit_log WHERE action = 'partner_call'")
                )
            ).all()
        assert set(audited) == {("partner", "Partenaire A sync"), ("partner", "Partenaire B sync")}
        assert len(audited) == 4


async def test_the_example_client_pushes_a_csv_and_keeps_a_copy_in_sync(
    engine: AsyncEngine,
    live_server: str,  # noqa: F811  (the fixture imported above)
    tmp_path: Any,
) -> None:
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "partner_sync", Path(__file__).parents[1] / "examples" / "partner_sync.py"
    )
    assert spec is not None
    assert spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    a = await make_partner(engine, "Partenaire A")
    people = await make_shared_people(engine, 3)
    csv_file = tmp_path / "contacts.csv"
    csv_file.write_text(
        "external_id,email,first_name,last_name,legal_basis,source\n"
        "v-1,p0@example.org,Prénom0,Nom0,consent,congrès\n"
        "v-2,nouvelle@example.org,Nouvelle,Personne,legitimate_interest,annuaire\n",
        encoding="utf-8",
    )
    state = tmp_path / "state.json"

    def run() -> tuple[Any, Any, Any]:
        with example.client(live_server, a.key) as http:
            pushed = example.push(http, example.read_csv(csv_file))
            return pushed, example.pull(http, state), example.pull(http, state)

    pushed, first, second = await asyncio.to_thread(run)
    assert pushed == {"created": 1, "updated": 1, "unchanged": 0, "error": 0}
    assert first["listed"] == 3
    assert second == {"listed": 0, "changed": 0, "removed": 0}
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM person WHERE id = :id"), {"id": people[1]})

    def again() -> Any:
        with example.client(live_server, a.key) as http:
            return example.pull(http, state)

    assert await asyncio.to_thread(again) == {"listed": 0, "changed": 0, "removed": 1}
    import json as json_module

    copy = json_module.loads(state.read_text())["contacts"]
    assert sorted(copy) == sorted(str(p) for p in (people[0], people[2]))
    assert copy[str(people[0])]["external_id"] == "v-1"
