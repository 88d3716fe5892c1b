"""Personal-data rights: the access export holds everything about a person and is audited;
erasure leaves none of their data in any text column of any table, keeps a board seat as "a
member of the board for <organisation>", and an import of the erased address is refused; the
retention rule lists inactive prospects and purges only the ones staff confirm."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.db.base import metadata
from crm.db.models.board import BoardRole, Mandate
from crm.db.models.campaign import Campaign, CampaignKind, CampaignStatus
from crm.db.models.imports import ImportBatch, ImportStatus
from crm.db.models.organisation import Organisation, OrganisationKind
from crm.db.models.person import Person
from crm.domain.outbox.suppression import suppression_hash
from tests.mailing_helpers import add, make_list
from tests.test_imports import check

EMAIL = "zephyrine.quarterbridge@ville-exemple.fr"
PHONE = "+33 6 12 34 56 78"
FIRST, LAST = "Zéphyrine", "Quarterbridge"
NOTES = "Préfère être appelée le mardi matin"
ERASED_VALUES = (EMAIL, PHONE, FIRST, LAST, NOTES, "0612345678")


async def personal_values_left(engine: AsyncEngine) -> list[tuple[str, str]]:
    """Every text, varchar and JSON column of every table, searched for the erased values."""
    found = []
    async with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, String | Text | JSONB):
                    continue
                for value in ERASED_VALUES:
                    hit = await conn.scalar(
                        text(f'SELECT count(*) FROM "{table.name}" WHERE CAST("{column.name}" AS text) ILIKE :v'),
                        {"v": f"%{value}%"},
                    )
                    if hit:
                        found.append((f"{table.name}.{column.name}", value))
    return found


async def test_access_export_then_erasure_leaves_no_personal_data_in_any_table(
    admin_client: Any, engine: AsyncEngine, run_worker: Any
) -> None:
    # The person as staff created them (audited), with a job, a board seat, a subscription with its
    # proof, a campaign received, a bounce, and an import file that named them.
    created = await admin_client.post(
        "/api/v1/people",
        json={"first_name": FIRST, "last_name": LAST, "email": EMAIL, "phone": PHONE, "notes": NOTES},
    )
    assert created.status_code == 201, created.text
    person_id = created.json()["id"]
    (city_id,) = await add(engine, Organisation(kind=OrganisationKind.ASSOCIATION, name="Villeneuve-Test"))
    position = await admin_client.post(
        "/api/v1/positions",
        json={
            "person_id": person_id,
            "organisation_id": str(city_id),
            "title": "Adjointe au numérique",
            "kind": "elected",
        },
    )
    assert position.status_code == 201, position.text
    await add(
        engine,
        Mandate(
            person_id=uuid.UUID(person_id), organisation_id=city_id, role=BoardRole.MEMBER, term_start=date(2024, 1, 1)
        ),
    )
    list_id = await make_list(engine, "lettre", "La lettre des villes")
    subscribed = await admin_client.post(
        f"/api/v1/lists/{list_id}/subscriptions",
        json={
            "person_ids": [person_id],
            "legal_basis": "consent",
            "source": "salon 2025",
            "consent_text": "Oui, je veux",
        },
    )
    assert subscribed.status_code in (200, 201), subscribed.text
    (campaign_id,) = await add(
        engine,
        Campaign(
            name="Lettre",
            kind=CampaignKind.NEWSLETTER,
            status=CampaignStatus.FINISHED,
            subject="La lettre",
            from_name="Asso",
            from_email="contact@example.org",
            list_id=list_id,
            template="newsletter",
            content={},
        ),
    )
    delivery_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO delivery (id, campaign_id, person_id, email, status, attempts, next_attempt_at, sent_at, "
                "smtp_response, created_at, updated_at) VALUES (:id, :c, :p, :e, 'sent', 1, now(), now(), :r, now(), now())"
            ),
            {"id": delivery_id, "c": campaign_id, "p": person_id, "e": EMAIL, "r": f"250 2.0.0 OK <{EMAIL}> queued"},
        )
        await conn.execute(
            text(
                "INSERT INTO bounce (id, delivery_id, campaign_id, person_id, email_hash, kind, status, diagnostic, "
                "received_at, suppressed, reviewed, created_at, updated_at) VALUES (:id, :d, :c, :p, :h, 'soft', "
                "'5.2.2', :diag, now(), false, false, now(), now())"
            ),
            {
                "id": uuid.uuid4(),
                "d": delivery_id,
                "c": campaign_id,
                "p": person_id,
                "h": suppression_hash(EMAIL),
                "diag": f"552 5.2.2 <{EMAIL}>: mailbox full",
            },
        )
    await add(
        engine,
        ImportBatch(
            kind="people",
            filename="contacts.csv",
            status=ImportStatus.APPLIED,
            encoding="utf-8",
            delimiter=";",
            rows=[
                {"line": 2, "values": {"first_name": FIRST, "last_name": LAST, "email": EMAIL, "phone": PHONE}},
                {"line": 3, "values": {"first_name": "Paul", "last_name": "Martin", "email": "paul@example.org"}},
            ],
            report={"errors": []},
        ),
    )

    exported = await admin_client.get(f"/api/v1/people/{person_id}/access-export")
    assert exported.status_code == 200
    assert exported.headers["content-disposition"].startswith("attachment;")
    document = exported.json()
    assert document["profile"]["email"] == EMAIL
    assert [p["title"] for p in document["positions"]] == ["Adjointe au numérique"]
    assert document["mandates"][0]["organisation"] == "Villeneuve-Test"
    [subscription] = document["subscriptions"]
    assert (subscription["legal_basis"], subscription["source"], subscription["consent_text"]) == (
        "consent",
        "salon 2025",
        "Oui, je veux",
    )
    assert document["deliveries"][0]["campaign"] == "Lettre"
    assert document["bounces"][0]["status"] == "5.2.2"
    assert {e["entity_type"] for e in document["audit_entries"]} >= {"person", "position", "mandate"}
    summary = (await admin_client.get(f"/api/v1/people/{person_id}/access-export/summary")).text
    assert "Abonnements et preuves du consentement" in summary
    assert "salon 2025" in summary
    audit = (await admin_client.get("/api/v1/audit-log", params={"action": "export", "entity_id": person_id})).json()
    assert audit["total"] == 2  # each export is on record

    erased = await admin_client.post(f"/api/v1/people/{person_id}/erasure", json={"reason": "request"})
    assert erased.status_code == 200, erased.text
    assert erased.json()["kept_mandates"] == 1
    assert await personal_values_left(engine) == []

    # What must be kept stays, anonymised: the board seat, the campaign's delivery, the other import row.
    board = (await admin_client.get(f"/api/v1/people/{person_id}")).json()
    assert (board["first_name"], board["last_name"]) == ("Membre du conseil", "pour Villeneuve-Test")
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM mandate WHERE person_id = :p"), {"p": person_id}) == 1
        assert await conn.scalar(text("SELECT status::text FROM delivery WHERE id = :d"), {"d": delivery_id}) == "sent"
        assert (
            await conn.scalar(
                text("SELECT reason::text FROM suppression WHERE email_hash = :h"), {"h": suppression_hash(EMAIL)}
            )
            == "erased"
        )
        rows = await conn.scalar(text("SELECT rows FROM import_batch"))
        assert rows[1]["values"]["email"] == "paul@example.org"
    assert (await admin_client.post(f"/api/v1/people/{person_id}/erasure", json={})).status_code == 409

    # An import bringing the address back is refused, and says why.
    people = f"Prénom;Nom;Courriel\n{FIRST};{LAST};{EMAIL.upper()}\nLéa;Roux;lea@example.org\n"
    report = (await check(admin_client, run_worker, "people", people.encode()))["report"]
    assert [(e["line"], e["column"], e["code"]) for e in report["errors"]] == [(2, "email", "erased")]


async def test_retention_lists_inactive_prospects_and_purges_only_the_confirmed(
    admin_client: Any, engine: AsyncEngine
) -> None:
    old = datetime.now(UTC) - timedelta(days=4 * 365)
    stale, also_stale, recent = (uuid.uuid4() for _ in range(3))
    await add(
        engine,
        Person(id=stale, first_name="Ancien", last_name="Prospect", email="ancien@example.org"),
        Person(id=also_stale, first_name="Autre", last_name="Prospect", email="autre@example.org"),
        Person(id=recent, first_name="Récent", last_name="Contact", email="recent@example.org"),
    )
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE person SET updated_at = :old WHERE id IN (:a, :b)"), {"old": old, "a": stale, "b": also_stale}
        )
        await conn.execute(
            text(
                "INSERT INTO audit_log (id, occurred_at, actor_type, action, entity_type) VALUES (:id, :at, 'system', 'create', 'x')"
            ),
            {"id": uuid.uuid4(), "at": datetime.now(UTC) - timedelta(days=7 * 365)},
        )
    listed = (await admin_client.get("/api/v1/retention/candidates")).json()
    assert listed["retention_days"] == 3 * 365
    assert {c["person_id"] for c in listed["items"]} == {str(stale), str(also_stale)}

    purged = await admin_client.post("/api/v1/retention/purge", json={"person_ids": [str(stale), str(recent)]})
    assert purged.status_code == 200, purged.text
    assert purged.json() == {"erased": [str(stale)], "skipped": [str(recent)], "audit_entries_deleted": 1}
    remaining = (await admin_client.get("/api/v1/retention/candidates")).json()["items"]
    assert [c["person_id"] for c in remaining] == [str(also_stale)]
