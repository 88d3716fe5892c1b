"""Events for staff: Paris time in and out, roles, invitations through the campaign engine,
updates and cancellations with their calendar files, reminders once, attendance, CSV, figures,
and the events of a person's and a member's page."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.db.models.organisation import OrganisationKind
from crm.db.models.staff import StaffRole
from crm.domain.events.links import rsvp_url
from crm.lib.redis import connect_redis
from tests.conftest import log_in
from tests.events_helpers import calendar_of, invitation_status, invite, make_event, paris_noon, vevent_of
from tests.mailing_helpers import make_list
from tests.sending_helpers import make_audience
from tests.smtp import SmtpSink
from tests.test_people import org_maker


async def _answer(client: AsyncTestClient[Any], settings: Any, event_id: str, person_id: Any, answer: str) -> None:
    url = rsvp_url(settings, event_id, person_id).split("testserver.local", 1)[1]
    response = await client.post(url, data={"answer": answer})
    assert response.status_code == 200, response.text


async def test_times_are_entered_in_paris_time_and_returned_in_utc_and_paris(
    admin_client: AsyncTestClient[Any],
) -> None:
    winter = await make_event(
        admin_client, starts_at="2027-01-21T14:30:00", ends_at="2027-01-21T17:00:00", capacity=None
    )
    assert winter["starts_at"].startswith("2027-01-21T13:30:00")
    assert winter["starts_at"].endswith(("Z", "+00:00"))
    assert winter["starts_at_paris"] == "21/01/2027 14:30"
    summer = await make_event(
        admin_client,
        starts_at="2027-06-10T09:00:00+02:00",
        ends_at="2027-06-10T12:00:00+02:00",
        kind="congress",
        title="Congrès des élus",
    )
    assert summer["starts_at"].startswith("2027-06-10T07:00:00")
    assert summer["ends_at_paris"] == "10/06/2027 12:00"
    assert summer["figures"] == {
        "invited": 0,
        "opened": 0,
        "yes": 0,
        "no": 0,
        "waiting": 0,
        "attended": 0,
        "seats_taken": 0,
    }
    listed = (await admin_client.get("/api/v1/events", params={"kind": "congress"})).json()
    assert [e["id"] for e in listed["items"]] == [summer["id"]]
    found = (await admin_client.get("/api/v1/events", params={"q": "ceremonie"})).json()
    assert [e["id"] for e in found["items"]] == [winter["id"]]


async def test_bad_input_names_the_field_and_roles_are_enforced(
    admin_client: AsyncTestClient[Any], make_staff: Any
) -> None:
    start = paris_noon(10)
    bad = await admin_client.post(
        "/api/v1/events",
        json={
            "kind": "webinar",
            "title": "Webinaire",
            "starts_at": start.isoformat(),
            "ends_at": (start - timedelta(hours=1)).isoformat(),
        },
    )
    assert bad.status_code in (400, 422)
    assert "ends_at" in bad.text
    bad_kind = await admin_client.post(
        "/api/v1/events",
        json={"kind": "party", "title": "x", "starts_at": start.isoformat(), "ends_at": start.isoformat()},
    )
    assert bad_kind.status_code in (400, 422)
    assert "kind" in bad_kind.text
    event = await make_event(admin_client)
    patch = await admin_client.patch(f"/api/v1/events/{event['id']}", json={"capacity": -1})
    assert patch.status_code in (400, 422)
    assert "capacity" in patch.text

    viewer = await make_staff(StaffRole.VIEWER, email="viewer.e@example.org")
    await log_in(admin_client, viewer.email)
    assert (await admin_client.get(f"/api/v1/events/{event['id']}")).status_code == 200
    assert (await admin_client.patch(f"/api/v1/events/{event['id']}", json={"title": "x"})).status_code == 403
    editor = await make_staff(StaffRole.EDITOR, email="editor.e@example.org")
    await log_in(admin_client, editor.email)
    assert (await admin_client.patch(f"/api/v1/events/{event['id']}", json={"title": "AG 2027"})).status_code == 200
    assert (await admin_client.delete(f"/api/v1/events/{event['id']}")).status_code == 403


async def test_an_invitation_campaign_needs_its_event(admin_client: AsyncTestClient[Any], engine: AsyncEngine) -> None:
    list_id = await make_list(engine, "l")
    response = await admin_client.post(
        "/api/v1/campaigns",
        json={"name": "Invitation", "kind": "invitation", "subject": "Invitation", "list_id": str(list_id)},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "event_id"


async def test_invitations_to_chosen_people_through_a_segment(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    event = await make_event(admin_client, kind="general_assembly", title="Assemblée générale 2027")
    list_id = await make_list(engine, "l")
    people = await make_audience(engine, list_id, 5)
    chosen = [str(pid) for pid, _ in people[:2]]
    segment = await admin_client.post(
        "/api/v1/segments",
        json={"name": "Choisis", "definition": {"field": "person", "op": "in", "value": chosen}},
    )
    assert segment.status_code == 201, segment.text
    campaign = await admin_client.post(
        "/api/v1/campaigns",
        json={
            "name": "AG",
            "kind": "invitation",
            "subject": "Assemblée générale",
            "list_id": str(list_id),
            "segment_id": segment.json()["id"],
            "event_id": event["id"],
        },
    )
    assert (await admin_client.post(f"/api/v1/campaigns/{campaign.json()['id']}/send")).status_code == 202
    await run_worker()
    assert sorted(r for m in smtp.messages for r in m.recipients) == sorted(e for _, e in people[:2])
    invited = (await admin_client.get(f"/api/v1/events/{event['id']}/invitations")).json()
    assert invited["total"] == 2
    assert {i["campaign_id"] for i in invited["items"]} == {campaign.json()["id"]}


async def test_a_change_of_date_sends_the_new_calendar_and_a_cancellation_removes_it(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    event = await make_event(admin_client)
    list_id = await make_list(engine, "l")
    people = await make_audience(engine, list_id, 3)
    await invite(engine, event["id"], people)
    await _answer(admin_client, settings, event["id"], people[0][0], "yes")
    await _answer(admin_client, settings, event["id"], people[1][0], "no")
    await run_worker()
    smtp.clear()

    # A title change is no change of date or place: nobody is written to.
    retitled = await admin_client.patch(f"/api/v1/events/{event['id']}", json={"title": "Cérémonie 2027"})
    assert retitled.json()["ics_sequence"] == 0
    new_start = paris_noon(31)
    moved = await admin_client.patch(
        f"/api/v1/events/{event['id']}",
        json={"starts_at": new_start.isoformat(), "ends_at": (new_start + timedelta(hours=2)).isoformat()},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["ics_sequence"] == 1
    await run_worker()
    assert [r for m in smtp.messages for r in m.recipients] == [people[0][1]]
    [update] = smtp.to(people[0][1])
    assert update.message["Subject"].startswith("Changement")
    vevent = vevent_of(calendar_of(update))
    assert str(vevent["UID"]) == f"event-{event['id']}@example.org"
    assert int(vevent["SEQUENCE"]) == 1
    assert vevent["DTSTART"].dt == new_start
    assert vevent["DTSTART"].params["TZID"] == "Europe/Paris"

    smtp.clear()
    cancelled = await admin_client.post(f"/api/v1/events/{event['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert (await admin_client.post(f"/api/v1/events/{event['id']}/cancel")).status_code == 409
    await run_worker()
    [cancellation] = smtp.to(people[0][1])
    cal = calendar_of(cancellation)
    assert str(cal["METHOD"]) == "CANCEL"
    assert int(vevent_of(cal)["SEQUENCE"]) == 2
    assert str(vevent_of(cal)["UID"]) == f"event-{event['id']}@example.org"
    assert len(smtp.messages) == 1
    # And nobody can answer any more.
    url = rsvp_url(settings, event["id"], people[2][0]).split("testserver.local", 1)[1]
    assert (await admin_client.post(url, data={"answer": "yes"})).status_code == 409


async def test_reminders_go_out_once_with_the_cron_twice_and_two_workers(
    admin_client: AsyncTestClient[Any],
    engine: AsyncEngine,
    smtp: SmtpSink,
    run_worker: Any,
    settings: Any,
    redis_url: str,
) -> None:
    settings.events.reminder_hour = 0
    in_a_week = await make_event(
        admin_client, starts_at=paris_noon(7).isoformat(), ends_at=(paris_noon(7) + timedelta(hours=2)).isoformat()
    )
    tomorrow = await make_event(
        admin_client,
        title="Atelier numérique responsable",
        kind="workshop",
        starts_at=paris_noon(1).isoformat(),
        ends_at=(paris_noon(1) + timedelta(hours=2)).isoformat(),
    )
    later = await make_event(admin_client, title="Congrès", kind="congress")
    list_id = await make_list(engine, "l")
    people = await make_audience(engine, list_id, 4)
    for event in (in_a_week, tomorrow, later):
        await invite(engine, event["id"], people)
        for pid, _ in people[:3]:
            await _answer(admin_client, settings, event["id"], pid, "yes")
    await _answer(admin_client, settings, tomorrow["id"], people[2][0], "no")
    await run_worker()  # the confirmations
    smtp.clear()

    redis = connect_redis(redis_url)
    try:
        for round_ in range(2):
            for i in range(2):
                await redis.enqueue_job("events_tick", _job_id=f"tick-{round_}-{i}")
            await asyncio.gather(run_worker(), run_worker())
    finally:
        await redis.aclose()

    subjects: dict[str, list[str]] = {}
    for message in smtp.messages:
        for recipient in message.recipients:
            subjects.setdefault(recipient, []).append(message.message["Subject"])
    assert sorted(subjects[people[0][1]]) == sorted(
        [f"Rappel : {in_a_week['title']}, dans 7 jours", "Rappel : Atelier numérique responsable, demain"]
    )
    assert subjects[people[2][1]] == [f"Rappel : {in_a_week['title']}, dans 7 jours"]
    assert people[3][1] not in subjects
    [reminder] = [m for m in smtp.to(people[1][1]) if "demain" in m.message["Subject"]]
    assert str(vevent_of(calendar_of(reminder))["UID"]) == f"event-{tomorrow['id']}@example.org"
    async with engine.connect() as conn:
        kinds = (
            await conn.execute(text("SELECT count(*) FROM event_notification WHERE kind = 'reminder'"))
        ).scalar_one()
    assert kinds == 5


async def test_check_in_figures_and_participants_csv(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Any
) -> None:
    event = await make_event(admin_client, guests_allowed=True)
    list_id = await make_list(engine, "l")
    people = await make_audience(engine, list_id, 4)
    await invite(engine, event["id"], people)
    await _answer(admin_client, settings, event["id"], people[0][0], "yes")
    await _answer(admin_client, settings, event["id"], people[1][0], "yes")
    await _answer(admin_client, settings, event["id"], people[2][0], "no")
    yes = (await admin_client.get(f"/api/v1/events/{event['id']}/invitations", params={"status": "yes"})).json()
    assert yes["total"] == 2
    first = next(i for i in yes["items"] if i["person_id"] == str(people[0][0]))
    path = f"/api/v1/events/{event['id']}/invitations/{first['id']}/check-in"
    checked = await admin_client.post(path)
    assert checked.status_code == 200
    assert checked.json()["checked_in_at"] is not None
    again = await admin_client.post(path)
    assert again.json()["checked_in_at"] == checked.json()["checked_in_at"]
    came = (await admin_client.get(f"/api/v1/events/{event['id']}/invitations", params={"checked_in": "true"})).json()
    assert [i["person_id"] for i in came["items"]] == [str(people[0][0])]
    figures = (await admin_client.get(f"/api/v1/events/{event['id']}")).json()["figures"]
    assert figures == {"invited": 4, "opened": 3, "yes": 2, "no": 1, "waiting": 0, "attended": 1, "seats_taken": 2}

    export = await admin_client.get(f"/api/v1/events/{event['id']}/participants.csv")
    assert export.status_code == 200
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert export.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Nom", "Prénom", "E-mail"]
    assert sorted(r[2] for r in rows[1:]) == sorted([people[0][1], people[1][1]])
    present = {r[2]: r[7] for r in rows[1:]}
    assert present[people[0][1]]
    assert not present[people[1][1]]
    audit = (await admin_client.get("/api/v1/audit-log", params={"entity_type": "event", "action": "export"})).json()
    assert any(e["entity_id"] == event["id"] for e in audit["items"])

    undone = await admin_client.delete(path)
    assert undone.status_code == 200
    assert undone.json()["checked_in_at"] is None
    wrong = await admin_client.post(f"/api/v1/events/{event['id']}/invitations/{event['id']}/check-in")
    assert wrong.status_code == 404


async def test_a_person_and_a_member_list_their_events_and_answers(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Any
) -> None:
    congress = await make_event(admin_client, kind="congress", title="Congrès des élus au numérique")
    webinar = await make_event(
        admin_client, kind="webinar", title="Webinaire IA", online_url="https://visio.example.org/ia"
    )
    list_id = await make_list(engine, "l")
    people = await make_audience(engine, list_id, 3)
    for event in (congress, webinar):
        await invite(engine, event["id"], people[:2])
    await _answer(admin_client, settings, congress["id"], people[0][0], "yes")
    await _answer(admin_client, settings, webinar["id"], people[0][0], "no")
    org_id = await org_maker(engine)("Ajaccio", OrganisationKind.COMMUNE, insee_code="2A004")
    position = await admin_client.post(
        "/api/v1/positions",
        json={
            "person_id": str(people[0][0]),
            "organisation_id": org_id,
            "title": "Adjointe au numérique",
            "kind": "elected",
        },
    )
    assert position.status_code == 201, position.text

    mine = (await admin_client.get(f"/api/v1/people/{people[0][0]}/events")).json()
    answers = {i["title"]: i["status"] for i in mine["items"]}
    assert answers == {"Congrès des élus au numérique": "yes", "Webinaire IA": "no"}
    theirs = (await admin_client.get(f"/api/v1/organisations/{org_id}/events")).json()
    assert theirs["total"] == 2
    assert {i["person_id"] for i in theirs["items"]} == {str(people[0][0])}
    assert (await admin_client.get(f"/api/v1/people/{people[2][0]}/events")).json()["total"] == 0
    assert (await admin_client.get(f"/api/v1/people/{congress['id']}/events")).status_code == 404
    statuses = await invitation_status(engine, congress["id"])
    assert statuses[people[1][0]] == "invited"


def _has_calendar(message: Any) -> bool:
    return any(p.get_content_type() == "text/calendar" for p in message.message.walk())


async def test_the_waiting_list_hears_of_changes_and_calendars_go_only_to_those_who_hold_the_entry(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    from crm.lib import frenchdates
    from tests.sending_helpers import suppress

    event = await make_event(admin_client, capacity=1)
    list_id = await make_list(engine, "l")
    people = await make_audience(engine, list_id, 4)
    await invite(engine, event["id"], people)
    await suppress(engine, people[3][1], "complaint")
    for pid, _ in people:
        await _answer(admin_client, settings, event["id"], pid, "yes")
    await run_worker()
    # Each person on the waiting list is told their place in it; the suppressed address gets nothing.
    [first_waiting] = smtp.to(people[1][1])
    [second_waiting] = smtp.to(people[2][1])
    assert "n° 1 sur la liste d’attente" in first_waiting.text
    assert "n° 2 sur la liste d’attente" in second_waiting.text
    assert smtp.to(people[3][1]) == []
    smtp.clear()

    old_start = paris_noon(30)
    new_start = paris_noon(31)
    moved = await admin_client.patch(
        f"/api/v1/events/{event['id']}",
        json={"starts_at": new_start.isoformat(), "ends_at": (new_start + timedelta(hours=2)).isoformat()},
    )
    assert moved.status_code == 200
    await run_worker()
    assert sorted(r for m in smtp.messages for r in m.recipients) == sorted(e for _, e in people[:3])
    new_when = frenchdates.span(new_start, new_start + timedelta(hours=2))
    old_when = frenchdates.span(old_start, old_start + timedelta(hours=3))
    for _, email in people[:3]:
        [update] = smtp.to(email)
        assert f"Nouvelle date : {new_when} (au lieu de : {old_when})" in " ".join(update.text.split())
    assert _has_calendar(smtp.to(people[0][1])[0])
    assert not _has_calendar(smtp.to(people[1][1])[0])
    assert "liste d’attente" in smtp.to(people[1][1])[0].text
    smtp.clear()

    await admin_client.post(f"/api/v1/events/{event['id']}/cancel")
    await run_worker()
    assert sorted(r for m in smtp.messages for r in m.recipients) == sorted(e for _, e in people[:3])
    assert str(calendar_of(smtp.to(people[0][1])[0])["METHOD"]) == "CANCEL"
    for _, email in people[1:3]:
        [cancellation] = smtp.to(email)
        assert not _has_calendar(cancellation)
        assert "agenda" not in cancellation.text


async def test_a_segment_and_chosen_people_are_invited_without_building_a_list(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    from datetime import datetime

    from crm.lib import frenchdates
    from tests.mailing_helpers import links_in
    from tests.sending_helpers import suppress

    event = await make_event(admin_client, capacity=50)
    directory = await make_list(engine, "annuaire")
    members = await make_audience(engine, directory, 3, prefix="membre")
    others = await make_audience(engine, await make_list(engine, "autre"), 2, prefix="autre")
    segment = await admin_client.post(
        "/api/v1/segments",
        json={"name": "Annuaire", "definition": {"field": "list", "op": "eq", "value": str(directory)}},
    )
    await suppress(engine, members[2][1])
    response = await admin_client.post(
        f"/api/v1/events/{event['id']}/invitations",
        json={"segment_id": segment.json()["id"], "emails": [others[0][1].upper(), "inconnu@ville.fr"]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["invited"], body["already"], body["suppressed"]) == (3, 0, [members[2][1]])
    assert body["unknown_emails"] == ["inconnu@ville.fr"]
    again = await admin_client.post(
        f"/api/v1/events/{event['id']}/invitations", json={"person_ids": [str(members[0][0])]}
    )
    assert (again.json()["invited"], again.json()["already"]) == (0, 1)
    await run_worker()
    assert sorted(r for m in smtp.messages for r in m.recipients) == sorted(
        [members[0][1], members[1][1], others[0][1]]
    )
    [message] = smtp.to(members[0][1])
    text_ = " ".join(message.text.split())
    assert "Places limitées : 50 places" in text_
    start = datetime.fromisoformat(event["starts_at"])
    end = datetime.fromisoformat(event["ends_at"])
    assert frenchdates.span(start, end) in text_
    yes = next(link for link in links_in(message.text) if "/rsvp/" in link and "answer=yes" in link)
    answered = await admin_client.post(yes.split("testserver.local", 1)[1].split("?")[0], data={"answer": "yes"})
    assert answered.status_code == 200
    assert (await invitation_status(engine, event["id"]))[members[0][0]] == "yes"
    figures = (await admin_client.get(f"/api/v1/events/{event['id']}")).json()["figures"]
    assert (figures["invited"], figures["yes"]) == (3, 1)
    # Invitations went out: the event can be cancelled, no longer deleted.
    assert (await admin_client.delete(f"/api/v1/events/{event['id']}")).status_code == 409

    await admin_client.post(f"/api/v1/events/{event['id']}/cancel")
    late = await admin_client.post(f"/api/v1/events/{event['id']}/invitations", json={"emails": [others[1][1]]})
    assert late.status_code == 409
    nobody = await admin_client.post(f"/api/v1/events/{event['id']}/invitations", json={})
    assert nobody.status_code in (400, 422)


async def test_an_address_suppressed_after_its_message_was_queued_gets_nothing(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    """The suppression list is asked just before each event message, as before each campaign
    message: a complaint that arrives after the confirmation was queued still stops it."""
    from tests.sending_helpers import suppress

    event = await make_event(admin_client, capacity=10)
    people = await make_audience(engine, await make_list(engine, "l"), 2)
    await invite(engine, event["id"], people)
    for pid, _ in people:
        await _answer(admin_client, settings, event["id"], pid, "yes")  # each queues a confirmation
    await suppress(engine, people[0][1], "complaint")
    await run_worker()
    assert smtp.to(people[0][1]) == []
    assert len(smtp.to(people[1][1])) == 1
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT i.person_id, n.status, n.smtp_response FROM event_notification n "
                    "JOIN invitation i ON i.id = n.invitation_id"
                )
            )
        ).all()
    by_person = {row.person_id: row for row in rows}
    assert by_person[people[0][0]].status == "skipped"
    assert "suppressed" in by_person[people[0][0]].smtp_response
    assert by_person[people[1][0]].status == "sent"


async def test_an_event_message_to_a_mailbox_that_does_not_exist_suppresses_the_address(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    """5.1.x to an event message: the address is suppressed as a campaign's bounce would, and the
    next message to that invitee is not sent."""
    from crm.domain.outbox.suppression import suppression_hash

    event = await make_event(admin_client, capacity=10)
    people = await make_audience(engine, await make_list(engine, "l"), 1)
    ((person_id, email),) = people
    await invite(engine, event["id"], people)
    smtp.refuse_recipients[email] = "550 5.1.1 User unknown"
    await _answer(admin_client, settings, event["id"], person_id, "yes")
    await run_worker()
    async with engine.connect() as conn:
        reason = await conn.scalar(
            text("SELECT reason FROM suppression WHERE email_hash = :h"), {"h": suppression_hash(email)}
        )
    assert reason == "hard_bounce"
    smtp.refuse_recipients.clear()
    await _answer(admin_client, settings, event["id"], person_id, "no")
    await run_worker()
    assert smtp.to(email) == []
