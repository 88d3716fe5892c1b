"""Staff keep lists, subscriptions with their proof, and the suppression list."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm.db.models.audit import AuditEntry
from crm.db.models.staff import StaffRole
from crm.db.models.suppression import Suppression
from crm.domain.lists.services import is_suppressed, suppression_hash
from tests.conftest import log_in
from tests.mailing_helpers import make_list, make_person


async def as_role(client: AsyncTestClient[Any], make_staff: Any, role: StaffRole) -> AsyncTestClient[Any]:
    account = await make_staff(role)
    await log_in(client, account.email)
    return client


async def test_lists_crud_and_guards(client: Any, make_staff: Any) -> None:
    viewer = await make_staff(StaffRole.VIEWER)
    editor = await make_staff(StaffRole.EDITOR)
    assert (await client.get("/api/v1/lists")).status_code == 401
    await log_in(client, viewer.email)
    assert (await client.get("/api/v1/lists")).status_code == 200
    assert (await client.post("/api/v1/lists", json={"name": "Lettre", "slug": "lettre"})).status_code == 403

    await log_in(client, editor.email)
    created = await client.post(
        "/api/v1/lists",
        json={"name": "Lettre d’information", "slug": "lettre", "kind": "newsletter", "is_public": True},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["double_opt_in"] is True
    duplicate = await client.post("/api/v1/lists", json={"name": "Autre", "slug": "lettre"})
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["field"] == "slug"
    bad_slug = await client.post("/api/v1/lists", json={"name": "Autre", "slug": "Lettre Été"})
    assert bad_slug.status_code in (400, 422)
    assert "slug" in bad_slug.json()["detail"]
    changed = await client.patch(f"/api/v1/lists/{body['id']}", json={"description": "Chaque mois"})
    assert changed.json()["description"] == "Chaque mois"
    listed = await client.get("/api/v1/lists", params={"q": "lettre", "is_public": True})
    assert listed.json()["total"] == 1
    assert (await client.delete(f"/api/v1/lists/{body['id']}")).status_code == 403


async def test_legitimate_interest_subscribes_at_once_with_proof(
    client: Any, make_staff: Any, engine: AsyncEngine
) -> None:
    await as_role(client, make_staff, StaffRole.EDITOR)
    person = await make_person(engine, "dgs@mairie-bastia.fr")
    news = await make_list(engine, "lettre")

    response = await client.post(
        "/api/v1/subscriptions",
        json={
            "person_id": str(person),
            "list_id": str(news),
            "legal_basis": "legitimate_interest",
            "source": "staff",
            "consent_text": None,
        },
    )

    assert response.status_code == 201, response.text
    sub = response.json()
    assert sub["status"] == "subscribed"
    assert sub["legal_basis"] == "legitimate_interest"
    assert sub["source"] == "staff"
    assert sub["confirmed_at"] is not None
    again = await client.post(
        "/api/v1/subscriptions",
        json={"person_id": str(person), "list_id": str(news), "legal_basis": "legitimate_interest"},
    )
    assert again.status_code == 409
    async with AsyncSession(engine) as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "subscription"))
    assert entry is not None
    assert entry.actor_type == "staff"


async def test_consent_keeps_text_and_version_and_waits_for_double_opt_in(
    client: Any, make_staff: Any, engine: AsyncEngine
) -> None:
    await as_role(client, make_staff, StaffRole.EDITOR)
    person = await make_person(engine, "elu@ville.fr")
    news = await make_list(engine, "lettre")
    direct = await make_list(engine, "sans-confirmation", double_opt_in=False)
    payload = {
        "person_id": str(person),
        "legal_basis": "consent",
        "source": "salon des maires",
        "consent_text": "J’accepte de recevoir la lettre d’information.",
        "consent_version": "papier-2025",
    }
    missing = await client.post("/api/v1/subscriptions", json=payload | {"list_id": str(news), "consent_text": None})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "consent_text"

    pending = (await client.post("/api/v1/subscriptions", json=payload | {"list_id": str(news)})).json()
    assert pending["status"] == "pending"
    assert pending["consent_text"] == payload["consent_text"]
    assert pending["consent_version"] == "papier-2025"
    assert pending["consented_at"] is not None
    assert pending["confirmed_at"] is None
    active = (await client.post("/api/v1/subscriptions", json=payload | {"list_id": str(direct)})).json()
    assert active["status"] == "subscribed"

    listed = await client.get("/api/v1/subscriptions", params={"person_id": str(person), "status": "pending"})
    assert [s["id"] for s in listed.json()["items"]] == [pending["id"]]
    by_list = await client.get("/api/v1/subscriptions", params={"list_id": str(direct)})
    assert by_list.json()["total"] == 1


async def test_unsubscribe_by_patch_keeps_the_proof(client: Any, make_staff: Any, engine: AsyncEngine) -> None:
    await as_role(client, make_staff, StaffRole.EDITOR)
    person = await make_person(engine, "elu@ville.fr")
    news = await make_list(engine, "lettre")
    sub = (
        await client.post(
            "/api/v1/subscriptions",
            json={"person_id": str(person), "list_id": str(news), "legal_basis": "legitimate_interest"},
        )
    ).json()
    resubscribe = await client.patch(f"/api/v1/subscriptions/{sub['id']}", json={"status": "subscribed"})
    assert resubscribe.status_code == 422
    assert resubscribe.json()["errors"][0]["field"] == "status"
    done = await client.patch(
        f"/api/v1/subscriptions/{sub['id']}",
        json={"status": "unsubscribed", "unsubscribe_reason": "demande par téléphone"},
    )
    assert done.status_code == 200
    body = done.json()
    assert body["status"] == "unsubscribed"
    assert body["unsubscribe_reason"] == "demande par téléphone"
    assert body["unsubscribed_at"] is not None
    assert body["legal_basis"] == "legitimate_interest"
    # Subscribing again needs a new proof, with POST.
    again = await client.post(
        "/api/v1/subscriptions",
        json={"person_id": str(person), "list_id": str(news), "legal_basis": "legitimate_interest", "source": "staff"},
    )
    assert again.status_code == 201
    assert again.json()["id"] == sub["id"]
    assert again.json()["status"] == "subscribed"


async def test_bad_references_are_named(client: Any, make_staff: Any, engine: AsyncEngine) -> None:
    await as_role(client, make_staff, StaffRole.EDITOR)
    person = await make_person(engine, "elu@ville.fr")
    no_email = await make_person(engine, None)
    news = await make_list(engine, "lettre")
    base = {"legal_basis": "legitimate_interest"}
    unknown_list = await client.post(
        "/api/v1/subscriptions", json=base | {"person_id": str(person), "list_id": str(person)}
    )
    assert unknown_list.json()["errors"][0]["field"] == "list_id"
    unknown_person = await client.post(
        "/api/v1/subscriptions", json=base | {"person_id": str(news), "list_id": str(news)}
    )
    assert unknown_person.json()["errors"][0]["field"] == "person_id"
    without_email = await client.post(
        "/api/v1/subscriptions", json=base | {"person_id": str(no_email), "list_id": str(news)}
    )
    assert without_email.status_code == 422
    bad_basis = await client.post(
        "/api/v1/subscriptions", json={"person_id": str(person), "list_id": str(news), "legal_basis": "because"}
    )
    assert bad_basis.status_code in (400, 422)
    assert "legal_basis" in bad_basis.json()["detail"]


async def test_a_suppressed_address_cannot_be_subscribed(client: Any, make_staff: Any, engine: AsyncEngine) -> None:
    await as_role(client, make_staff, StaffRole.ADMIN)
    person = await make_person(engine, "rebond@ville.fr")
    news = await make_list(engine, "lettre")
    suppressed = await client.post("/api/v1/suppressions", json={"email": " Rebond@Ville.FR ", "reason": "hard_bounce"})
    assert suppressed.status_code == 201
    response = await client.post(
        "/api/v1/subscriptions",
        json={"person_id": str(person), "list_id": str(news), "legal_basis": "legitimate_interest"},
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} >= {"person_id", "email"}
    assert (await client.get("/api/v1/subscriptions")).json()["total"] == 0


async def test_suppression_list_never_shows_the_address(client: Any, make_staff: Any, engine: AsyncEngine) -> None:
    editor = await make_staff(StaffRole.EDITOR)
    await log_in(client, editor.email)
    assert (await client.get("/api/v1/suppressions")).status_code == 403
    assert (await client.post("/api/v1/suppressions", json={"email": "a@b.fr"})).status_code == 403
    await as_role(client, make_staff, StaffRole.ADMIN)

    created = await client.post("/api/v1/suppressions", json={"email": "Plainte@Ville.fr", "reason": "complaint"})
    assert created.status_code == 201
    assert "plainte" not in created.text.lower()
    assert created.json()["email_hash"] == suppression_hash("plainte@ville.fr")
    duplicate = await client.post("/api/v1/suppressions", json={"email": "plainte@ville.fr"})
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["field"] == "email"
    invalid_email = await client.post("/api/v1/suppressions", json={"email": "pas-une-adresse"})
    assert invalid_email.status_code in (400, 422)
    assert "email" in invalid_email.json()["detail"]

    listing = await client.get("/api/v1/suppressions")
    assert listing.json()["total"] == 1
    item = listing.json()["items"][0]
    assert set(item) == {"id", "email_hash", "reason", "note", "created_at"}
    assert item["reason"] == "complaint"
    assert (await client.get("/api/v1/suppressions", params={"email": "PLAINTE@ville.fr"})).json()["total"] == 1
    assert (await client.get("/api/v1/suppressions", params={"email": "autre@ville.fr"})).json()["total"] == 0
    async with AsyncSession(engine) as session:
        assert await is_suppressed(session, "plainte@ville.fr")
        assert not await is_suppressed(session, "autre@ville.fr")
        entries = (await session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "suppression"))).all()
    assert "plainte" not in str([e.changes for e in entries]).lower()

    assert (await client.delete(f"/api/v1/suppressions/{item['id']}")).status_code == 204
    async with AsyncSession(engine) as session:
        assert not await is_suppressed(session, "plainte@ville.fr")
        assert await session.scalar(select(Suppression)) is None


# ---- consent on a double opt-in list: the person confirms --------------------------------


async def test_staff_consent_on_a_double_opt_in_list_emails_the_person_who_confirms(
    client: Any, make_staff: Any, engine: AsyncEngine, smtp: Any, run_worker: Any
) -> None:
    from tests.mailing_helpers import links_in, subscriptions_of

    await as_role(client, make_staff, StaffRole.EDITOR)
    person = await make_person(engine, "maire@commune-corte.fr", "Jean-Marc", "O’Neill")
    news = await make_list(engine, "lettre", "Lettre d’information")
    colleague = await make_person(engine, "dgs@commune-corte.fr")

    response = await client.post(
        "/api/v1/subscriptions",
        json={
            "person_id": str(person),
            "list_id": str(news),
            "legal_basis": "consent",
            "source": "salon des maires",
            "consent_text": "J’accepte de recevoir la lettre d’information.",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    # Legitimate interest subscribes at once: nothing to confirm, nothing sent.
    direct = await client.post(
        "/api/v1/subscriptions",
        json={"person_id": str(colleague), "list_id": str(news), "legal_basis": "legitimate_interest"},
    )
    assert direct.json()["status"] == "subscribed"

    await run_worker()
    assert smtp.to("dgs@commune-corte.fr") == []
    [message] = smtp.to("maire@commune-corte.fr")
    assert "Lettre d’information" in message.text
    assert "formulaire" not in message.text  # staff recorded it: the message does not blame the form
    confirm_links = {u for u in links_in(message.text) if "/confirm/" in u}
    assert len(confirm_links) == 1
    link = confirm_links.pop()

    client.cookies.clear()  # the person is no staff member
    client.headers.pop("X-CSRF-Token", None)
    confirmed = await client.post(urlsplit(link).path)
    assert confirmed.status_code == 200
    assert "confirmée" in confirmed.text
    [subscription] = (await subscriptions_of(engine, person)).values()
    assert subscription.status.value == "subscribed"
    assert subscription.confirmed_at is not None


async def test_resend_confirmation_for_a_pending_subscription_only(
    client: Any, make_staff: Any, engine: AsyncEngine, smtp: Any, run_worker: Any
) -> None:
    viewer = await make_staff(StaffRole.VIEWER)
    editor = await make_staff(StaffRole.EDITOR)
    await log_in(client, editor.email)
    person = await make_person(engine, "adjointe@ville-fort-de-france.fr")
    news = await make_list(engine, "lettre")
    direct = await make_list(engine, "sans-confirmation", double_opt_in=False)
    payload = {"person_id": str(person), "legal_basis": "consent", "consent_text": "J’accepte."}
    pending = (await client.post("/api/v1/subscriptions", json=payload | {"list_id": str(news)})).json()
    active = (await client.post("/api/v1/subscriptions", json=payload | {"list_id": str(direct)})).json()
    await run_worker()
    assert len(smtp.to("adjointe@ville-fort-de-france.fr")) == 1

    again = await client.post(f"/api/v1/subscriptions/{pending['id']}/resend-confirmation")
    assert again.status_code == 202, again.text
    assert again.json()["status"] == "pending"
    refused = await client.post(f"/api/v1/subscriptions/{active['id']}/resend-confirmation")
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "status"
    missing = await client.post(f"/api/v1/subscriptions/{uuid4()}/resend-confirmation")
    assert missing.status_code == 404
    await run_worker()
    messages = smtp.to("adjointe@ville-fort-de-france.fr")
    assert len(messages) == 2
    assert all("/confirm/" in m.text for m in messages)

    await log_in(client, viewer.email)
    assert (await client.post(f"/api/v1/subscriptions/{pending['id']}/resend-confirmation")).status_code == 403
    # Taken off the list meanwhile: nothing left to confirm.
    await log_in(client, editor.email)
    await client.patch(f"/api/v1/subscriptions/{pending['id']}", json={"status": "unsubscribed"})
    assert (await client.post(f"/api/v1/subscriptions/{pending['id']}/resend-confirmation")).status_code == 409


async def _audit(engine: AsyncEngine, action: str) -> list[AuditEntry]:
    async with AsyncSession(engine) as session:
        return list((await session.scalars(select(AuditEntry).where(AuditEntry.action == action))).all())


async def test_a_segment_people_and_addresses_subscribe_in_one_call_with_one_proof(
    client: Any, make_staff: Any, engine: AsyncEngine, smtp: Any
) -> None:
    from tests.sending_helpers import make_audience, suppress

    await as_role(client, make_staff, StaffRole.EDITOR)
    source = await make_list(engine, "annuaire")
    target = await make_list(engine, "lettre", double_opt_in=False)
    from_segment = await make_audience(engine, source, 40, prefix="segment")
    by_id = await make_audience(engine, source, 5, prefix="parid")
    by_email = await make_audience(engine, source, 5, prefix="parmail")
    segment = await client.post(
        "/api/v1/segments",
        json={"name": "Annuaire", "definition": {"field": "list", "op": "eq", "value": str(source)}},
    )
    assert segment.status_code == 201, segment.text
    await suppress(engine, from_segment[0][1], "hard_bounce")
    no_address = await make_person(engine, None)
    response = await client.post(
        f"/api/v1/lists/{target}/subscriptions",
        json={
            "segment_id": segment.json()["id"],
            "person_ids": [str(pid) for pid, _ in by_id] + [str(no_address), str(uuid4())],
            # Upper case and a repeat are the same person; an unknown address and a typo are reported.
            "emails": [email.upper() for _, email in by_email]
            + [by_email[0][1], "inconnu@ville.fr", "pas-une-adresse"],
            "legal_basis": "legitimate_interest",
            "source": "annuaire des DGS",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subscribed"] == 40 + 5 + 5 - 1
    assert body["suppressed"] == [from_segment[0][1]]
    assert body["no_email"] == 1
    assert body["already"] == body["pending"] == body["left_before"] == 0
    assert len(body["unknown_person_ids"]) == 1
    assert body["unknown_emails"] == ["inconnu@ville.fr"]
    assert body["invalid_emails"] == ["pas-une-adresse"]

    listed = await client.get("/api/v1/subscriptions", params={"list_id": str(target), "limit": 100})
    assert listed.json()["total"] == 49
    row = listed.json()["items"][0]
    assert (row["status"], row["legal_basis"], row["source"]) == (
        "subscribed",
        "legitimate_interest",
        "annuaire des DGS",
    )
    [entry] = await _audit(engine, "subscribe_many")
    assert entry.entity_id == target
    assert entry.changes["subscribed"] == 49
    assert entry.changes["source"] == "annuaire des DGS"

    # Again: nobody twice; and someone who left the list is not put back in bulk.
    async with engine.begin() as conn:
        from sqlalchemy import text

        await conn.execute(
            text("UPDATE subscription SET status = 'unsubscribed' WHERE person_id = :p AND list_id = :l"),
            {"p": by_id[0][0], "l": target},
        )
    again = (
        await client.post(
            f"/api/v1/lists/{target}/subscriptions",
            json={"segment_id": segment.json()["id"], "legal_basis": "legitimate_interest"},
        )
    ).json()
    assert (again["subscribed"], again["already"], again["left_before"]) == (0, 48, 1)


async def test_bulk_consent_on_a_double_opt_in_list_waits_for_each_confirmation(
    client: Any, make_staff: Any, engine: AsyncEngine, smtp: Any, run_worker: Any
) -> None:
    await as_role(client, make_staff, StaffRole.EDITOR)
    target = await make_list(engine, "lettre")
    emails = ["maire@commune-a.fr", "dgs@commune-b.fr"]
    for email in emails:
        await make_person(engine, email)
    without_proof = await client.post(
        f"/api/v1/lists/{target}/subscriptions", json={"emails": emails, "legal_basis": "consent"}
    )
    assert without_proof.status_code == 422
    assert without_proof.json()["errors"][0]["field"] == "consent_text"
    response = await client.post(
        f"/api/v1/lists/{target}/subscriptions",
        json={"emails": emails, "legal_basis": "consent", "consent_text": "J’accepte de recevoir la lettre."},
    )
    assert response.json()["pending"] == 2
    await run_worker()
    assert sorted(r for m in smtp.messages for r in m.recipients) == sorted(emails)


async def test_bulk_subscribe_refuses_what_it_cannot_bound(client: Any, make_staff: Any, engine: AsyncEngine) -> None:
    await as_role(client, make_staff, StaffRole.EDITOR)
    target = await make_list(engine, "lettre")
    nobody = await client.post(f"/api/v1/lists/{target}/subscriptions", json={"legal_basis": "legitimate_interest"})
    assert nobody.status_code in (400, 422)
    too_long = await client.post(
        f"/api/v1/lists/{target}/subscriptions",
        json={"emails": ["a" * 400 + "@x.fr"], "legal_basis": "legitimate_interest"},
    )
    assert too_long.status_code in (400, 422)
    assert "emails" in too_long.text
    unknown_list = await client.post(
        f"/api/v1/lists/{uuid4()}/subscriptions",
        json={"person_ids": [str(uuid4())], "legal_basis": "legitimate_interest"},
    )
    assert unknown_list.status_code == 404


async def test_a_person_is_subscribed_by_their_address(client: Any, make_staff: Any, engine: AsyncEngine) -> None:
    await as_role(client, make_staff, StaffRole.EDITOR)
    target = await make_list(engine, "lettre")
    person_id = await make_person(engine, "dgs@mairie-ajaccio.fr")
    created = await client.post(
        "/api/v1/subscriptions",
        json={"email": "DGS@Mairie-Ajaccio.fr", "list_id": str(target), "legal_basis": "legitimate_interest"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["person_id"] == str(person_id)
    unknown = await client.post(
        "/api/v1/subscriptions",
        json={"email": "personne@nulle-part.fr", "list_id": str(target), "legal_basis": "legitimate_interest"},
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "email"


async def test_ten_thousand_people_subscribe_in_one_call(client: Any, make_staff: Any, engine: AsyncEngine) -> None:
    import time

    from tests.sending_helpers import make_audience

    await as_role(client, make_staff, StaffRole.EDITOR)
    source = await make_list(engine, "annuaire")
    target = await make_list(engine, "lettre")
    people = await make_audience(engine, source, 10_000)
    started = time.monotonic()
    response = await client.post(
        f"/api/v1/lists/{target}/subscriptions",
        json={"person_ids": [str(pid) for pid, _ in people], "legal_basis": "legitimate_interest"},
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert response.json()["subscribed"] == 10_000
    print(f"\n10,000 people subscribed in one call: {elapsed:.2f} s")


async def test_a_csv_file_subscribes_its_rows_to_a_list_with_the_basis_stated(
    client: Any, make_staff: Any, engine: AsyncEngine
) -> None:
    from tests.sending_helpers import suppress

    await as_role(client, make_staff, StaffRole.EDITOR)
    target = await make_list(engine, "lettre", double_opt_in=False)
    bastia = await make_person(engine, "dgs@mairie-bastia.fr", "Hélène", "Péri")
    await make_person(engine, "maire@mairie-fort-de-france.fr", "Léon", "Célestin")
    await make_person(engine, "ancien@mairie-ajaccio.fr")
    await suppress(engine, "ancien@mairie-ajaccio.fr")
    csv_text = (
        "Prénom;Nom;Courriel\r\n"
        "Hélène;Péri;DGS@mairie-bastia.fr\r\n"
        "Léon;Célestin;maire@mairie-fort-de-france.fr\r\n"
        ";;ancien@mairie-ajaccio.fr\r\n"
        "Inconnu;Personne;inconnu@ville.fr\r\n"
    )
    files = {"file": ("dgs.csv", csv_text.encode("windows-1252"), "text/csv")}
    response = await client.post(
        f"/api/v1/lists/{target}/subscriptions/csv",
        files=files,
        data={"legal_basis": "legitimate_interest", "source": "fichier des DGS 2027"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subscribed"] == 2
    assert body["suppressed"] == ["ancien@mairie-ajaccio.fr"]
    assert body["unknown_emails"] == ["inconnu@ville.fr"]
    listed = await client.get("/api/v1/subscriptions", params={"person_id": str(bastia)})
    [row] = listed.json()["items"]
    assert (row["legal_basis"], row["source"]) == ("legitimate_interest", "fichier des DGS 2027")

    bad_basis = await client.post(
        f"/api/v1/lists/{target}/subscriptions/csv", files=files, data={"legal_basis": "parce que"}
    )
    assert bad_basis.status_code == 422
    assert "legal_basis" in bad_basis.text
    no_column = await client.post(
        f"/api/v1/lists/{target}/subscriptions/csv",
        files={"file": ("x.csv", b"Nom;Ville\r\nPeri;Bastia\r\n", "text/csv")},
        data={"legal_basis": "legitimate_interest"},
    )
    assert no_column.status_code == 422
    assert no_column.json()["errors"][0]["field"] == "file"
