"""Questionnaires as members answer them: sent through the outbox with a signed link each, drafts
saved question by question while two colleagues type at once, submission with its copy by e-mail,
a closed questionnaire refusing answers, the anonymous mode holding in the database and the API,
and the results. Real PostgreSQL, Redis, worker and SMTP server."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.db.models.membership import Membership, MembershipStatus
from crm.db.models.organisation import Organisation, OrganisationKind
from crm.db.models.person import Person, Position, PositionKind
from crm.lib.redis import connect_redis
from tests.mailing_helpers import add
from tests.smtp import SmtpSink

CONTENT = {
    "sections": [
        {
            "title": "Votre collectivité",
            "questions": [
                {
                    "key": "tools",
                    "label": "Outils utilisés",
                    "type": "multiple_choice",
                    "choices": ["SMS", "Appli", "Site"],
                },
                {"key": "crisis", "label": "Avez-vous eu une cellule de crise ?", "type": "yes_no", "required": True},
                {
                    "key": "crisis_how",
                    "label": "Comment était-elle organisée ?",
                    "type": "long_text",
                    "required": True,
                    "show_if": {"question": "crisis", "equals": "oui"},
                },
                {"key": "satisfaction", "label": "Satisfaction", "type": "scale", "min": 1, "max": 5},
                {"key": "remarks", "label": "Remarques", "type": "short_text"},
                {"key": "plan", "label": "Votre plan de crise", "type": "file", "max_bytes": 1000},
            ],
        }
    ]
}


async def member_with_colleagues(engine: AsyncEngine, n: int = 2, insee: str = "2A004") -> tuple[UUID, list[UUID]]:
    org = Organisation(
        kind=OrganisationKind.COMMUNE, name=f"Ville {insee}", insee_code=insee, population=70_000, region_code="94"
    )
    (org_id,) = await add(engine, org)
    people = [
        Person(first_name=f"Col{i}", last_name=insee, email=f"col{i}.{insee.lower()}@example.org") for i in range(n)
    ]
    ids = await add(engine, *people)
    await add(
        engine,
        Membership(organisation_id=org_id, status=MembershipStatus.ACTIVE),
        *[Position(person_id=p, organisation_id=org_id, title="DGS", kind=PositionKind.STAFF) for p in ids],
    )
    return org_id, ids


async def make_questionnaire(client: AsyncTestClient[Any], **extra: Any) -> dict[str, Any]:
    created = await client.post(
        "/api/v1/questionnaires", json={"title": "Enquête gestion de crise", "content": CONTENT} | extra
    )
    assert created.status_code == 201, created.text
    published = await client.post(f"/api/v1/questionnaires/{created.json()['id']}/publish")
    assert published.status_code == 200, published.text
    return published.json()


def link_of(smtp: SmtpSink, address: str) -> str:
    """The link of the invitation (a reminder carries the same page)."""
    message = next(m for m in smtp.to(address) if "/q/" in m.text)
    url = re.search(r"http://testserver\.local(/q/[A-Za-z0-9._\-]+)", message.text)
    assert url is not None
    return url.group(1)


async def send_to(client: AsyncTestClient[Any], questionnaire_id: str, people: list[UUID], run_worker: Any) -> None:
    sent = await client.post(
        f"/api/v1/questionnaires/{questionnaire_id}/send", json={"person_ids": [str(p) for p in people]}
    )
    assert sent.status_code == 202, sent.text
    assert sent.json()["invited"] == len(people)
    await run_worker()


async def test_colleagues_typing_at_once_keep_every_answer_and_submission_mails_a_copy(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    questionnaire = await make_questionnaire(admin_client, answered_by="organisation")
    org_id, (first, second) = await member_with_colleagues(engine)
    await send_to(admin_client, questionnaire["id"], [first, second], run_worker)
    link_a, link_b = link_of(smtp, "col0.2a004@example.org"), link_of(smtp, "col1.2a004@example.org")
    assert link_a != link_b  # each colleague has their own link, to the member's one answer

    page = await admin_client.get(link_a)
    assert page.status_code == 200
    assert "Ville 2A004" in page.text
    assert "la même réponse" in page.text

    # Two colleagues of the member save at once, from their own links (the first saves begin the
    # member's answer from both sides): every question keeps its value.
    async def save(link: str, key: str, value: Any) -> None:
        answer = await admin_client.post(f"{link}/answers", json={"key": key, "value": value})
        assert answer.status_code == 200, answer.text

    await asyncio.gather(
        save(link_a, "tools", ["Site", "SMS"]),
        save(link_b, "crisis", "oui"),
        save(link_a, "remarks", "brouillon A"),
        save(link_b, "satisfaction", 4),
    )
    # Both write the same question: the later write wins, the others are untouched.
    await save(link_b, "remarks", "version finale B")
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT r.id) FROM questionnaire_answer a JOIN questionnaire_response r ON r.id = a.response_id"
                )
            )
        ).one()
    assert tuple(rows) == (4, 1)  # one answer for the member, four questions kept
    page = await admin_client.get(link_a)
    assert "version finale B" in page.text
    assert "brouillon A" not in page.text

    # A bad value names the question; a required question shown by the condition blocks submission.
    bad = await admin_client.post(f"{link_a}/answers", json={"key": "satisfaction", "value": 9})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "answers.satisfaction"
    refused = await admin_client.post(link_a, data={})
    assert refused.status_code == 422
    assert "Cette question attend une réponse" in refused.text

    done = await admin_client.post(link_a, data={"crisis_how": "Une cellule quotidienne"})
    assert done.status_code == 200, done.text
    assert "votre réponse est envoyée" in done.text
    again = await admin_client.post(f"{link_b}/answers", json={"key": "remarks", "value": "trop tard"})
    assert again.status_code == 409  # the colleague sees the member's answer as sent
    await run_worker()
    [copy] = [m for m in smtp.to("col0.2a004@example.org") if "Votre réponse" in m.message["Subject"]]
    assert "Une cellule quotidienne" in copy.text
    assert "version finale B" in copy.text

    figures = (await admin_client.get(f"/api/v1/questionnaires/{questionnaire['id']}/figures")).json()
    assert figures["asked"] == 2
    assert figures["answered"] == 2
    assert figures["submitted"] == 1
    responses = (await admin_client.get(f"/api/v1/questionnaires/{questionnaire['id']}/responses")).json()
    assert responses["items"][0]["organisation_id"] == str(org_id)
    assert responses["items"][0]["version"] == 1


async def test_versions_files_reminders_and_a_closed_questionnaire_refusing_answers(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, redis_url: str
) -> None:
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    questionnaire = await make_questionnaire(admin_client, reminder_dates=[today.isoformat()])
    _, (person, other) = await member_with_colleagues(engine, 2)
    await send_to(admin_client, questionnaire["id"], [person, other], run_worker)
    link = link_of(smtp, "col0.2a004@example.org")
    assert (await admin_client.post(f"{link}/answers", json={"key": "crisis", "value": "non"})).status_code == 200

    # A file within the question's limit is kept; a larger one is refused and names the field.
    too_big = await admin_client.post(
        f"{link}/files/plan", files={"file": ("plan.pdf", b"x" * 1001, "application/pdf")}
    )
    assert too_big.status_code == 413
    assert too_big.json()["errors"][0]["field"] == "file"
    kept = await admin_client.post(
        f"{link}/files/plan", files={"file": ("plan.pdf", b"%PDF-1.7 plan", "application/pdf")}
    )
    assert kept.status_code == 200
    assert kept.json()["value"]["size"] == 13
    downloaded = await admin_client.get(
        f"/api/v1/questionnaires/{questionnaire['id']}/files/{kept.json()['value']['file_id']}"
    )
    assert downloaded.content == b"%PDF-1.7 plan"
    assert downloaded.headers["content-disposition"] == 'attachment; filename="plan.pdf"'

    # A new version: the answer begun keeps the version it answered; new questions are not its.
    changed = dict(CONTENT, sections=[dict(CONTENT["sections"][0], title="Votre collectivité (v2)")])
    await admin_client.patch(f"/api/v1/questionnaires/{questionnaire['id']}", json={"content": changed})
    assert (await admin_client.post(f"/api/v1/questionnaires/{questionnaire['id']}/publish")).json()[
        "current_version"
    ] == 2
    page = await admin_client.get(link)
    assert "Votre collectivité (v2)" not in page.text
    assert "Votre collectivité" in page.text

    # Today's reminder goes once, and only to the one who has not answered.
    assert (await admin_client.post(link, data={})).status_code == 200
    # The cron's job, run twice on the same day (two workers, or a restart): one reminder.
    redis = connect_redis(redis_url)
    try:
        for i in range(2):
            await redis.enqueue_job("questionnaire_reminders", _job_id=f"reminders-{i}")
            await run_worker()
    finally:
        await redis.aclose()
    assert [m.message["Subject"] for m in smtp.to("col1.2a004@example.org")][-1].startswith("Rappel : ")
    assert not [m for m in smtp.to("col0.2a004@example.org") if m.message["Subject"].startswith("Rappel")]

    closed = await admin_client.post(f"/api/v1/questionnaires/{questionnaire['id']}/close")
    assert closed.json()["status"] == "closed"
    late_link = link_of(smtp, "col1.2a004@example.org")
    late = await admin_client.post(f"{late_link}/answers", json={"key": "remarks", "value": "trop tard"})
    assert late.status_code == 409
    assert late.json()["code"] == "questionnaire_closed"
    submitted = await admin_client.post(late_link, data={"remarks": "trop tard"})
    assert submitted.status_code == 409
    assert "Ce questionnaire est clos" in submitted.text
    async with engine.connect() as conn:
        stored = (
            await conn.execute(
                text(
                    "SELECT question_key, status FROM questionnaire_answer a JOIN questionnaire_response r ON r.id = a.response_id"
                )
            )
        ).all()
    assert sorted(tuple(r) for r in stored) == [("crisis", "submitted"), ("plan", "submitted")]


async def test_anonymous_answers_lead_to_nobody_in_the_database_or_the_api(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    questionnaire = await make_questionnaire(admin_client, anonymous=True)
    _, (person,) = await member_with_colleagues(engine, 1)
    await send_to(admin_client, questionnaire["id"], [person], run_worker)
    link = link_of(smtp, "col0.2a004@example.org")
    assert (await admin_client.post(f"{link}/answers", json={"key": "crisis", "value": "non"})).status_code == 200
    assert (await admin_client.post(link, data={"remarks": "anonyme"})).status_code == 200
    # The page still finds its own answer again from the link.
    assert "anonyme" in (await admin_client.get(link)).text

    async with engine.connect() as conn:
        response = (await conn.execute(text("SELECT * FROM questionnaire_response"))).mappings().one()
        recipient = (await conn.execute(text("SELECT * FROM questionnaire_recipient"))).mappings().one()
        # Every column of the answer and its questions, as text: no id of the person or their invitation.
        joined = "SELECT r.*, a.* FROM questionnaire_response r JOIN questionnaire_answer a ON a.response_id = r.id"
        every_text = " ".join(str(v) for row in (await conn.execute(text(joined))).all() for v in row)
        messages = (
            await conn.execute(
                text("SELECT subject_id, payload::text FROM system_message WHERE kind = 'questionnaire_receipt'")
            )
        ).one()
    assert response["person_id"] is None
    assert response["organisation_id"] is None
    assert str(person) not in every_text
    assert str(person) not in response["respondent_key"]
    assert str(recipient["id"]) not in every_text
    assert recipient["answered_on"] is not None  # the fact "has answered" lives apart
    assert str(response["id"]) not in messages.payload
    assert messages.subject_id != response["id"]
    # The API names nobody either, in the answers or the export.
    listed = (await admin_client.get(f"/api/v1/questionnaires/{questionnaire['id']}/responses")).json()["items"]
    assert listed[0]["person_id"] is None
    assert listed[0]["organisation_id"] is None
    assert listed[0]["organisation_name"] is None
    exported = (await admin_client.get(f"/api/v1/questionnaires/{questionnaire['id']}/results.csv")).text
    assert "Ville 2A004" not in exported
    assert "2A004" not in exported
    assert "anonyme" in exported
    # Anonymity cannot be switched off once answers may exist.
    switched = await admin_client.patch(f"/api/v1/questionnaires/{questionnaire['id']}", json={"anonymous": False})
    assert switched.status_code == 409


async def test_results_count_by_question_region_and_band(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    questionnaire = await make_questionnaire(admin_client)
    people = []
    for insee in ("2A004", "75056", "13055"):
        people += (await member_with_colleagues(engine, 1, insee))[1]
    await send_to(admin_client, questionnaire["id"], people, run_worker)
    for insee, crisis in (("2A004", "oui"), ("75056", "non"), ("13055", "non")):
        link = link_of(smtp, f"col0.{insee.lower()}@example.org")
        done = await admin_client.post(
            link, data={"crisis": crisis, "crisis_how": "réunions", "tools": ["SMS", "Site"], "satisfaction": "4"}
        )
        assert done.status_code == 200, done.text
    data = (await admin_client.get(f"/api/v1/questionnaires/{questionnaire['id']}/results")).json()
    assert data["submitted"] == 3
    crisis = next(q for q in data["questions"] if q["key"] == "crisis")
    assert crisis["counts"] == [
        {"value": "oui", "count": 1, "percent": 33.3},
        {"value": "non", "count": 2, "percent": 66.7},
    ]
    assert crisis["by_population_band"] == {"20 000 – 100 000": {"oui": 1, "non": 2}}
    tools = next(q for q in data["questions"] if q["key"] == "tools")
    assert [c["count"] for c in tools["counts"]] == [3, 0, 3]
    how = next(q for q in data["questions"] if q["key"] == "crisis_how")
    assert how["texts"] == ["réunions"] * 3
    published = await admin_client.post(f"/api/v1/questionnaires/{questionnaire['id']}/results/publish")
    assert published.status_code == 201
    public = await admin_client.get(f"/resultats/{questionnaire['id']}")
    assert public.status_code == 200
    assert "66.7 %" in public.text
    assert "Résultats : Enquête gestion de crise" in (await admin_client.get("/archive")).text


async def test_a_questionnaire_sent_to_a_list_asks_its_subscribers_only(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    from crm.db.models.lists import LegalBasis, ListKind, MailingList, Subscription, SubscriptionStatus

    questionnaire = await make_questionnaire(admin_client)
    (list_id,) = await add(engine, MailingList(name="La lettre", slug="la-lettre", kind=ListKind.NEWSLETTER))
    reader, gone = await add(
        engine,
        Person(first_name="Inès", last_name="Lecture", email="ines@example.org"),
        Person(first_name="Paul", last_name="Parti", email="paul@example.org"),
    )
    await add(
        engine,
        *[
            Subscription(person_id=p, list_id=list_id, status=s, legal_basis=LegalBasis.CONSENT, source="staff")
            for p, s in ((reader, SubscriptionStatus.SUBSCRIBED), (gone, SubscriptionStatus.UNSUBSCRIBED))
        ],
    )
    sent = await admin_client.post(f"/api/v1/questionnaires/{questionnaire['id']}/send", json={"list_id": str(list_id)})
    assert sent.status_code == 202, sent.text
    assert sent.json()["invited"] == 1
    await run_worker()
    assert link_of(smtp, "ines@example.org").startswith("/q/")
    assert smtp.to("paul@example.org") == []
