"""Campaigns through the API and a real arq worker, to a real SMTP server."""

from __future__ import annotations

import asyncio
import re
from email.utils import parseaddr
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.db.models.staff import StaffRole
from tests.conftest import log_in
from tests.mailing_helpers import make_list
from tests.sending_helpers import (
    delivery_counts,
    make_audience,
    received_per_address,
    suppress,
)
from tests.smtp import SmtpSink

CONTENT = {
    "blocks": [
        {"type": "heading", "text": "La lettre de novembre"},
        {
            "type": "text",
            "text": "Bonjour {{ first_name }},\n\nVoici les nouvelles de {{ organisation }} & d’ailleurs.",
        },
        {"type": "button", "label": "Lire le rapport", "url": "https://example.org/rapport?annee=2026&v=2"},
    ]
}


async def compose(client: AsyncTestClient[Any], list_id: Any, **extra: Any) -> dict[str, Any]:
    body = {
        "name": "Lettre de novembre",
        "subject": "La lettre des villes – novembre",
        "list_id": str(list_id),
        "content": CONTENT,
        **extra,
    }
    response = await client.post("/api/v1/campaigns", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def fast_sending(settings: Any) -> Any:
    settings.sending.retry_base_seconds = 0
    settings.sending.batch_size = 20
    settings.sending.smtp_connections = 4
    return settings


async def test_a_newsletter_reaches_each_subscriber_once_with_the_right_headers(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    list_id = await make_list(engine, "lettre", "La lettre des villes")
    people = await make_audience(engine, list_id, 30)
    await make_audience(engine, list_id, 2, prefix="parti", status="unsubscribed")
    await make_audience(engine, list_id, 1, prefix="attente", status="pending")
    await suppress(engine, people[0][1], "hard_bounce")
    campaign = await compose(admin_client, list_id)

    audience = (await admin_client.get(f"/api/v1/campaigns/{campaign['id']}/audience")).json()
    assert audience == {"recipients": 30, "suppressed": 1, "to_send": 29}

    sent = await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
    assert sent.status_code == 202
    assert sent.json()["status"] == "running"
    assert (await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")).status_code == 409
    await run_worker()

    received = received_per_address(smtp)
    assert set(received) == {email for _, email in people[1:]}
    assert set(received.values()) == {1}
    progress = (await admin_client.get(f"/api/v1/campaigns/{campaign['id']}/progress")).json()
    assert progress["status"] == "finished"
    assert progress["audience"] == 30
    assert progress["suppressed"] == 1
    assert progress["sent"] == 29
    assert progress["queued"] == progress["leased"] == 0

    [message] = smtp.to(people[5][1])
    msg = message.message
    deliveries = (
        await admin_client.get("/api/v1/deliveries", params={"campaign_id": campaign["id"], "q": people[5][1]})
    ).json()["items"]
    assert deliveries[0]["status"] == "sent"
    assert deliveries[0]["smtp_response"].startswith("250")
    assert msg["Message-ID"] == f"<{deliveries[0]['id']}@example.org>"
    assert msg["Subject"] == "La lettre des villes – novembre"
    assert parseaddr(msg["From"])[1] == settings.organisation.sender_email
    assert msg["List-Id"] == "La lettre des villes <lettre.example.org>"
    assert msg["To"] == "Prénom5 Lefèvre <acteur00005@ville-exemple.fr>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Auto-Submitted"] == "auto-generated"
    https_link, mailto = re.findall(r"<([^>]+)>", msg["List-Unsubscribe"])
    assert https_link.startswith(f"{settings.public_url}/u/")
    # The address and the subject carry the delivery's signed tag (crm inbound reads either).
    assert re.fullmatch(
        r"mailto:desinscription\+[a-z0-9]{26}-[a-z0-9]{13}@example\.org\?subject=unsubscribe%20.+", mailto
    )
    assert re.fullmatch(r"bounce\+[a-z0-9]{26}-[a-z0-9]{13}@example\.org", message.envelope_from)
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    for body in (message.text, message.html):
        assert "Prénom5" in body
        assert settings.organisation.name in body
        assert settings.organisation.postal_address in body
        assert "inscrit·e à la liste « La lettre des villes »" in body
    assert https_link in message.html
    assert "&amp; d’ailleurs" in message.html
    assert "https://example.org/rapport?annee=2026&amp;v=2" in message.html


async def test_a_segment_narrows_the_list(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 10)
    await make_audience(engine, list_id, 5, prefix="pro", legal_basis="legitimate_interest")
    segment = await admin_client.post(
        "/api/v1/segments",
        json={
            "name": "Intérêt légitime",
            "definition": {"all": [{"field": "list", "op": "eq", "value": str(list_id)}]},
        },
    )
    if segment.status_code == 404:
        pytest.skip("segments API not available")
    campaign = await compose(admin_client, list_id, segment_id=segment.json()["id"])
    await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
    await run_worker()
    assert len(received_per_address(smtp)) == 15
    assert people[0][1] in received_per_address(smtp)


async def test_preview_and_test_send(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 3)
    campaign = await compose(admin_client, list_id)
    preview = await admin_client.get(
        f"/api/v1/campaigns/{campaign['id']}/preview", params={"person_id": str(people[2][0])}
    )
    assert preview.status_code == 200
    assert preview.headers["content-type"].startswith("text/html")
    assert "Bonjour Prénom2," in preview.text
    test = await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/test", json={"person_id": str(people[1][0])})
    assert test.status_code == 202
    await run_worker()
    [message] = smtp.to("admin@example.org")
    assert message.message["Subject"] == "[TEST] La lettre des villes – novembre"
    assert "Bonjour Prénom1," in message.text
    # Its links do not act for that recipient: a click would unsubscribe someone else.
    assert "/u/" not in message.html
    assert "/p/" not in message.html
    assert received_per_address(smtp) == {"admin@example.org": 1}  # nobody else got anything
    assert (await admin_client.get(f"/api/v1/campaigns/{campaign['id']}")).json()["status"] == "draft"


async def test_bad_content_is_refused_naming_the_block(admin_client: AsyncTestClient[Any], engine: AsyncEngine) -> None:
    list_id = await make_list(engine, "lettre")
    bad = {"blocks": [{"type": "heading", "text": "ok"}, {"type": "text", "text": "Bonjour {{ mot_de_passe }}"}]}
    response = await admin_client.post(
        "/api/v1/campaigns", json={"name": "x", "subject": "y", "list_id": str(list_id), "content": bad}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "content.blocks[1].text"
    unknown_block = {"blocks": [{"type": "video", "url": "https://example.org"}]}
    response = await admin_client.post(
        "/api/v1/campaigns", json={"name": "x", "subject": "y", "list_id": str(list_id), "content": unknown_block}
    )
    assert response.status_code in (400, 422)
    missing_list = await admin_client.post(
        "/api/v1/campaigns", json={"name": "x", "subject": "y", "list_id": "01930000-0000-7000-8000-000000000000"}
    )
    assert missing_list.status_code == 422
    assert missing_list.json()["errors"][0]["field"] == "list_id"


async def test_a_550_fails_that_delivery_with_the_answer_and_the_others_go(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, fast_sending: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 12)
    refused = people[3][1]
    smtp.refuse_recipients[refused] = "550 Mailbox unavailable"
    campaign = await compose(admin_client, list_id)
    await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
    await run_worker()
    assert len(received_per_address(smtp)) == 11
    failed = (
        await admin_client.get("/api/v1/deliveries", params={"campaign_id": campaign["id"], "status": "failed"})
    ).json()["items"]
    assert [d["email"] for d in failed] == [refused]
    assert failed[0]["smtp_response"] == "550 Mailbox unavailable"
    assert failed[0]["attempts"] == 1
    progress = (await admin_client.get(f"/api/v1/campaigns/{campaign['id']}/progress")).json()
    assert (progress["status"], progress["sent"], progress["failed"]) == ("finished", 11, 1)


async def test_a_mailbox_that_does_not_exist_bounces_and_is_suppressed(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 3)
    smtp.refuse_recipients[people[0][1]] = "550 5.1.1 User unknown"
    campaign = await compose(admin_client, list_id)
    await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
    await run_worker()
    assert (await delivery_counts(engine, campaign["id"])) == {"bounced": 1, "sent": 2}
    second = await compose(admin_client, list_id, name="Deuxième")
    assert (await admin_client.get(f"/api/v1/campaigns/{second['id']}/audience")).json()["suppressed"] == 1


async def test_smtp_refusing_for_a_while_then_accepting_delivers_everything_once(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, fast_sending: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 40)
    refusals = 0
    real_handle = smtp.handle_DATA

    async def refuse_the_first_25(*args: Any) -> str:
        nonlocal refusals
        if refusals < 25:
            refusals += 1
            return "421 4.7.0 Too busy, try again later"
        return await real_handle(*args)

    smtp.handle_DATA = refuse_the_first_25  # type: ignore[method-assign]
    try:
        campaign = await compose(admin_client, list_id)
        await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
        await run_worker()
    finally:
        del smtp.handle_DATA
    assert refusals == 25
    received = received_per_address(smtp)
    assert set(received) == {email for _, email in people}
    assert set(received.values()) == {1}
    assert (await delivery_counts(engine, campaign["id"])) == {"sent": 40}


async def test_a_run_of_faults_pauses_the_campaign_with_the_reason(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, fast_sending: Any
) -> None:
    fast_sending.sending.pause_after_consecutive_faults = 5
    fast_sending.sending.retry_base_seconds = 3600  # no retry within the test
    list_id = await make_list(engine, "lettre")
    await make_audience(engine, list_id, 30)
    smtp.refuse_all_with = "451 4.3.0 Local problem"
    campaign = await compose(admin_client, list_id)
    await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
    await run_worker()
    shown = (await admin_client.get(f"/api/v1/campaigns/{campaign['id']}")).json()
    assert shown["status"] == "paused"
    assert "451 4.3.0 Local problem" in shown["paused_reason"]
    counts = await delivery_counts(engine, campaign["id"])
    assert counts.get("leased", 0) == 0  # nothing stays held by a worker that stopped
    assert counts["queued"] == 30


async def test_pause_then_resume_serves_everyone_once(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, fast_sending: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 100)
    await suppress(engine, people[-1][1])
    campaign = await compose(admin_client, list_id)
    main_loop = asyncio.get_running_loop()
    real_handle = smtp.handle_DATA
    accepted = 0

    async def pause_after_30(*args: Any) -> str:
        nonlocal accepted
        answer = await real_handle(*args)
        accepted += 1
        if accepted == 30:
            # Staff press "pause" while the worker is sending.
            future = asyncio.run_coroutine_threadsafe(
                admin_client.post(f"/api/v1/campaigns/{campaign['id']}/pause"), main_loop
            )
            assert (await asyncio.wrap_future(future)).status_code == 200
        return answer

    smtp.handle_DATA = pause_after_30  # type: ignore[method-assign]
    try:
        await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
        await run_worker()
    finally:
        del smtp.handle_DATA
    paused = (await admin_client.get(f"/api/v1/campaigns/{campaign['id']}/progress")).json()
    assert paused["status"] == "paused"
    assert 30 <= paused["sent"] < 99
    assert paused["leased"] == 0
    resumed = await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/resume")
    assert resumed.json()["status"] == "running"
    await run_worker()
    done = (await admin_client.get(f"/api/v1/campaigns/{campaign['id']}/progress")).json()
    assert done["status"] == "finished"
    assert done["sent"] + done["failed"] + done["suppressed"] == done["audience"] == 100
    received = received_per_address(smtp)
    assert len(received) == 99
    assert set(received.values()) == {1}


async def test_one_click_unsubscribe_during_a_send_stops_what_is_left(
    admin_client: AsyncTestClient[Any],
    engine: AsyncEngine,
    smtp: SmtpSink,
    run_worker: Any,
    fast_sending: Any,
    settings: Any,
) -> None:
    from crm.lib.links import unsubscribe_url

    list_id = await make_list(engine, "lettre")
    await make_audience(engine, list_id, 60)
    campaign = await compose(admin_client, list_id)
    main_loop = asyncio.get_running_loop()
    real_handle = smtp.handle_DATA
    unsubscribed = False

    async def unsubscribe_the_leaver_from_the_first_message(server: Any, session: Any, envelope: Any) -> str:
        nonlocal unsubscribed
        answer = await real_handle(server, session, envelope)
        if not unsubscribed:
            unsubscribed = True
            # The leaver clicks "unsubscribe" in an earlier message of the same list.
            path = unsubscribe_url(settings, leaver[0], list_id, campaign["id"]).split("testserver.local", 1)[1]
            future = asyncio.run_coroutine_threadsafe(
                admin_client.post(path, data={"List-Unsubscribe": "One-Click"}, headers={"X-CSRF-Token": ""}),
                main_loop,
            )
            response = await asyncio.wrap_future(future)
            assert response.status_code == 200
        return answer

    await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
    # The leaver is the last in the queue: still waiting when they click.
    async with engine.connect() as conn:
        leaver = (
            await conn.execute(
                text(
                    "SELECT person_id, email FROM delivery WHERE campaign_id = :c ORDER BY next_attempt_at DESC, id DESC LIMIT 1"
                ),
                {"c": campaign["id"]},
            )
        ).one()
    smtp.handle_DATA = unsubscribe_the_leaver_from_the_first_message  # type: ignore[method-assign]
    try:
        await run_worker()
    finally:
        del smtp.handle_DATA
    assert leaver[1] not in received_per_address(smtp)
    counts = await delivery_counts(engine, campaign["id"])
    assert counts == {"sent": 59, "unsubscribed": 1}


async def test_two_workers_on_one_campaign_send_nothing_twice(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, fast_sending: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 300)
    campaign = await compose(admin_client, list_id)
    await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
    fast_sending.sending.jobs_per_campaign = 4
    await asyncio.gather(run_worker(), run_worker())
    received = received_per_address(smtp)
    assert len(received) == 300
    assert set(received.values()) == {1}
    assert {email for _, email in people} == set(received)


async def test_cancel_stops_a_scheduled_or_running_campaign(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    await make_audience(engine, list_id, 10)
    campaign = await compose(admin_client, list_id)
    past = await admin_client.post(
        f"/api/v1/campaigns/{campaign['id']}/schedule", json={"scheduled_at": "2020-01-01T09:00:00+01:00"}
    )
    assert past.status_code == 422
    scheduled = await admin_client.post(
        f"/api/v1/campaigns/{campaign['id']}/schedule", json={"scheduled_at": "2099-07-01T09:00:00"}
    )
    assert scheduled.json()["status"] == "scheduled"
    assert scheduled.json()["scheduled_at"].startswith("2099-07-01T07:00:00")  # no offset: Paris time
    await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
    cancelled = await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    await run_worker()
    assert smtp.messages == []
    assert (await delivery_counts(engine, campaign["id"])) == {"cancelled": 10}
    assert (await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/resume")).status_code == 409


async def test_viewers_follow_but_do_not_send(
    client: AsyncTestClient[Any], make_staff: Any, engine: AsyncEngine
) -> None:
    list_id = await make_list(engine, "lettre")
    viewer = await make_staff(StaffRole.VIEWER)
    await log_in(client, viewer.email)
    assert (await client.get("/api/v1/campaigns")).status_code == 200
    refused = await client.post("/api/v1/campaigns", json={"name": "x", "subject": "y", "list_id": str(list_id)})
    assert refused.status_code == 403


async def test_a_public_campaign_is_on_the_archive_without_personal_data(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 3)
    public = await compose(admin_client, list_id, is_public=True, subject="Lettre publique")
    private = await compose(admin_client, list_id, subject="Lettre interne")
    for campaign in (public, private):
        await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
    await run_worker()
    archive = await admin_client.get("/archive")
    assert "Lettre publique" in archive.text
    assert "Lettre interne" not in archive.text
    link = f"/archive/campaigns/{public['id']}"
    assert link in archive.text
    view = await admin_client.get(link)
    assert view.status_code == 200
    assert "La lettre de novembre" in view.text
    for person_id, email in people:
        assert email not in view.text
        assert str(person_id) not in view.text
    assert "Prénom" not in view.text
    assert "/u/" not in view.text
    assert (await admin_client.get(f"/archive/campaigns/{private['id']}")).status_code == 404


async def test_a_scheduled_campaign_is_started_by_the_sweeper_when_due(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    from jobs.sending import sweep

    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 5)
    campaign = await compose(admin_client, list_id)
    await admin_client.post(
        f"/api/v1/campaigns/{campaign['id']}/schedule", json={"scheduled_at": "2099-01-01T09:00:00+01:00"}
    )
    from crm.lib.redis import connect_redis
    from crm.lib.services import alchemy_config

    ctx = {"settings": settings, "redis": connect_redis(settings.redis_url), "db_config": alchemy_config(settings)}
    await sweep(ctx)
    assert (await admin_client.get(f"/api/v1/campaigns/{campaign['id']}")).json()["status"] == "scheduled"
    async with engine.begin() as conn:  # time passes
        await conn.execute(
            text("UPDATE campaign SET scheduled_at = now() - interval '1 second' WHERE id = :c"), {"c": campaign["id"]}
        )
    await sweep(ctx)
    await ctx["redis"].aclose()
    await ctx["db_config"].get_engine().dispose()
    await run_worker()
    assert set(received_per_address(smtp)) == {email for _, email in people}
    assert (await admin_client.get(f"/api/v1/campaigns/{campaign['id']}")).json()["status"] == "finished"


async def test_a_list_name_with_accents_keeps_a_readable_list_id(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    list_id = await make_list(engine, "lettre-info", "Lettre d’information")
    people = await make_audience(engine, list_id, 1)
    campaign = await compose(admin_client, list_id)
    await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
    await run_worker()
    [message] = smtp.to(people[0][1])
    assert message.message["List-Id"] == "Lettre d’information <lettre-info.example.org>"
    # On the wire the id stays plain (RFC 2919); only the name may be an encoded word.
    raw = dict(message.message.raw_items())["List-Id"]
    assert raw.endswith(" <lettre-info.example.org>")


async def test_progress_counts_the_people_who_left_through_the_campaign(
    admin_client: AsyncTestClient[Any],
    engine: AsyncEngine,
    smtp: SmtpSink,
    run_worker: Any,
    fast_sending: Any,
    settings: Any,
) -> None:
    from crm.lib.links import preferences_url, unsubscribe_url

    def path(url: str) -> str:
        return url.split("testserver.local", 1)[1]

    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 6)
    campaign = await compose(admin_client, list_id)
    other = await compose(admin_client, list_id, name="Lettre de décembre")
    await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
    # Before their message goes, someone leaves with this campaign's link: held back, counted once.
    early = path(unsubscribe_url(settings, people[0][0], list_id, campaign["id"]))
    assert (await admin_client.post(early, data={"List-Unsubscribe": "One-Click"})).status_code == 200
    await run_worker()
    progress = (await admin_client.get(f"/api/v1/campaigns/{campaign['id']}/progress")).json()
    assert progress["status"] == "finished"
    assert (progress["sent"], progress["unsubscribed"]) == (5, 1)

    # A recipient uses the one-click link of the message they received.
    [message] = smtp.to(people[1][1])
    one_click = re.findall(r"<([^>]+)>", message.message["List-Unsubscribe"])[0]
    assert (await admin_client.post(path(one_click), data={"List-Unsubscribe": "One-Click"})).status_code == 200
    # Another unticks the list on the preference page reached from this campaign.
    page = path(preferences_url(settings, people[2][0], campaign["id"]))
    assert (await admin_client.post(page, data={"lists": []})).status_code == 200
    # A third leaves from a link of no campaign: not this campaign's doing.
    plain = path(unsubscribe_url(settings, people[3][0], list_id, None))
    assert (await admin_client.post(plain, data={"List-Unsubscribe": "One-Click"})).status_code == 200

    progress = (await admin_client.get(f"/api/v1/campaigns/{campaign['id']}/progress")).json()
    assert (progress["sent"], progress["unsubscribed"]) == (5, 3)
    untouched = (await admin_client.get(f"/api/v1/campaigns/{other['id']}/progress")).json()
    assert untouched["unsubscribed"] == 0


async def test_message_ids_list_ids_and_the_unsubscribe_mailbox_use_the_senders_own_domain(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    """Only the sender's address is configured: nothing names a placeholder domain."""
    from crm.config import OrganisationSettings

    settings.organisation = OrganisationSettings(sender_email="contact@villes-internet.net")
    list_id = await make_list(engine, "lettre", "La lettre des villes")
    [(_, email)] = await make_audience(engine, list_id, 1)
    campaign = await compose(admin_client, list_id)
    await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
    await run_worker()
    [message] = smtp.to(email)
    msg = message.message
    assert msg["Message-ID"].endswith("@villes-internet.net>")
    assert msg["List-Id"] == "La lettre des villes <lettre.villes-internet.net>"
    _, mailto = re.findall(r"<([^>]+)>", msg["List-Unsubscribe"])
    assert re.match(r"mailto:desinscription\+[a-z0-9-]+@villes-internet\.net\?subject=unsubscribe", mailto)
