"""Answering an invitation from the e-mail: the public page, capacity and the waiting list, the
deadline, and the confirmation with its calendar file. Real worker, real SMTP server."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.domain.events.links import rsvp_token, rsvp_url
from tests.events_helpers import calendar_of, invitation_status, invite, make_event, vevent_of
from tests.mailing_helpers import links_in, make_list
from tests.sending_helpers import make_audience
from tests.smtp import SmtpSink


def _path(url: str) -> str:
    return url.split("testserver.local", 1)[1]


async def _answer(client: AsyncTestClient[Any], url: str, answer: str, **extra: str) -> Any:
    return await client.post(_path(url).split("?")[0], data={"answer": answer, **extra})


async def test_the_answer_flow_from_the_links_of_the_invitation(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    event = await make_event(admin_client, registration_deadline=None)
    list_id = await make_list(engine, "invitations", "Invitations aux événements")
    people = await make_audience(engine, list_id, 3)
    created = await admin_client.post(
        "/api/v1/campaigns",
        json={
            "name": "Invitation cérémonie",
            "kind": "invitation",
            "subject": "Vous êtes invité·e à la cérémonie",
            "list_id": str(list_id),
            "event_id": event["id"],
            "content": {"blocks": [{"type": "text", "text": "Bonjour {{ first_name }}, venez !"}]},
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["template"] == "invitation"
    sent = await admin_client.post(f"/api/v1/campaigns/{created.json()['id']}/send")
    assert sent.status_code == 202, sent.text
    await run_worker()

    figures = (await admin_client.get(f"/api/v1/events/{event['id']}")).json()["figures"]
    assert figures["invited"] == 3
    [message] = smtp.to(people[0][1])
    assert "Je participe" in message.html
    assert "Je ne participe pas" in message.html
    assert "Hôtel de ville de Martigues" in message.text
    assert "(heure de Paris)" in message.text
    assert "Places limitées : 100 places" in message.text
    yes_link = next(link for link in links_in(message.text) if "/rsvp/" in link and "answer=yes" in link)
    no_link = next(link for link in links_in(message.text) if "/rsvp/" in link and "answer=no" in link)
    assert yes_link.split("?")[0] == no_link.split("?")[0]

    # The page shows the choice preselected and changes nothing, not even "opened".
    page = await admin_client.get(_path(yes_link))
    assert page.status_code == 200
    assert "Cérémonie des labels Villes Internet" in page.text
    assert re.search(r'value="yes"\s+checked', page.text)
    assert page.headers["cache-control"] == "no-store"
    assert (await invitation_status(engine, event["id"]))[people[0][0]] == "invited"
    assert (await admin_client.get(f"/api/v1/events/{event['id']}")).json()["figures"]["opened"] == 0
    # The page's own beacon counts it as opened.
    opened_path = re.search(r'data-opened-url="([^"]+)"', page.text)
    assert opened_path is not None
    assert (await admin_client.post(opened_path.group(1))).status_code == 204
    assert (await admin_client.get(f"/api/v1/events/{event['id']}")).json()["figures"]["opened"] == 1

    answered = await _answer(admin_client, yes_link, "yes")
    assert answered.status_code == 200
    assert "participation est enregistrée" in answered.text
    assert (await invitation_status(engine, event["id"]))[people[0][0]] == "yes"
    smtp.clear()
    await run_worker()
    [confirmation] = smtp.to(people[0][1])
    assert confirmation.message["Subject"].startswith("Participation confirmée")
    cal = calendar_of(confirmation)
    assert str(cal["METHOD"]) == "REQUEST"
    vevent = vevent_of(cal)
    assert str(vevent["UID"]) == f"event-{event['id']}@example.org"
    assert int(vevent["SEQUENCE"]) == 0
    assert vevent["DTSTART"].params["TZID"] == "Europe/Paris"
    assert vevent["DTSTART"].dt == datetime.fromisoformat(event["starts_at"])
    assert str(vevent["DTSTART"].dt.tzinfo) == "Europe/Paris"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert "Hôtel de ville de Martigues" in str(vevent["LOCATION"])
    # The link in the confirmation leads back to the page to change one's mind, before the deadline.
    change_link = next(link for link in links_in(confirmation.text) if "/rsvp/" in link)
    changed = await _answer(admin_client, change_link, "no")
    assert changed.status_code == 200
    assert (await invitation_status(engine, event["id"]))[people[0][0]] == "no"
    await _answer(admin_client, no_link, "no")
    figures = (await admin_client.get(f"/api/v1/events/{event['id']}")).json()["figures"]
    assert figures | {"invited": 3, "no": 1, "yes": 0, "opened": 1} == figures


async def test_a_tampered_or_expired_link_is_refused_with_a_clear_page(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Any
) -> None:
    event = await make_event(admin_client)
    list_id = await make_list(engine, "l")
    [(person_id, _)] = await make_audience(engine, list_id, 1)
    await invite(engine, event["id"], [(person_id, "")])
    token = rsvp_token(settings, event["id"], person_id)
    body, _, signature = token.partition(".")
    tampered = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + signature
    for path in (f"/rsvp/{tampered}", f"/rsvp/{token}x", "/rsvp/nonsense"):
        page = await admin_client.get(path)
        assert page.status_code == 400
        assert "Ce lien n’est pas valide" in page.text
        refused = await admin_client.post(path, data={"answer": "yes"})
        assert refused.status_code == 400
    old = rsvp_token(settings, event["id"], person_id, issued_at=time.time() - 401 * 24 * 3600)
    expired = await admin_client.post(f"/rsvp/{old}", data={"answer": "yes"})
    assert expired.status_code == 410
    assert "Ce lien a expiré" in expired.text
    # A link signed for another purpose is no answer link either.
    from crm.lib.links import preferences_url

    other = preferences_url(settings, person_id).rsplit("/", 1)[1]
    assert (await admin_client.post(f"/rsvp/{other}", data={"answer": "yes"})).status_code == 400
    assert (await invitation_status(engine, event["id"]))[person_id] == "invited"


async def test_after_the_deadline_nothing_changes(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Any
) -> None:
    event = await make_event(admin_client, registration_deadline=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    list_id = await make_list(engine, "l")
    [(person_id, _)] = await make_audience(engine, list_id, 1)
    await invite(engine, event["id"], [(person_id, "")])
    url = rsvp_url(settings, event["id"], person_id)
    page = await admin_client.get(_path(url))
    assert page.status_code == 200
    assert "Les réponses sont closes" in page.text
    assert "<form" not in page.text
    answer = await _answer(admin_client, url, "yes")
    assert answer.status_code == 409
    assert "n’a pas été modifiée" in answer.text
    assert (await invitation_status(engine, event["id"]))[person_id] == "invited"


async def test_a_bad_answer_is_refused_naming_the_choice(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Any
) -> None:
    event = await make_event(admin_client)
    list_id = await make_list(engine, "l")
    [(person_id, _)] = await make_audience(engine, list_id, 1)
    await invite(engine, event["id"], [(person_id, "")])
    answer = await _answer(admin_client, rsvp_url(settings, event["id"], person_id), "peut-être")
    assert answer.status_code == 422
    assert "Choisissez" in answer.text
    assert (await invitation_status(engine, event["id"]))[person_id] == "invited"


async def test_past_capacity_a_yes_waits_and_a_freed_seat_goes_to_the_first_waiting(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    event = await make_event(admin_client, capacity=2, guests_allowed=True)
    list_id = await make_list(engine, "l")
    people = await make_audience(engine, list_id, 4)
    await invite(engine, event["id"], people)
    url = [rsvp_url(settings, event["id"], pid) for pid, _ in people]

    # The first comes with a guest: both seats are taken.
    assert (await _answer(admin_client, url[0], "yes", with_guest="on")).status_code == 200
    waiting = await _answer(admin_client, url[1], "yes")
    assert "liste d’attente" in waiting.text
    await _answer(admin_client, url[2], "yes")
    statuses = await invitation_status(engine, event["id"])
    assert [statuses[p] for p, _ in people[:3]] == ["yes", "waiting", "waiting"]
    await run_worker()
    assert smtp.to(people[1][1])[0].message["Subject"].startswith("Liste d’attente")
    assert not any(p.get_content_type() == "text/calendar" for p in smtp.to(people[1][1])[0].message.walk())

    # The first one cancels: two seats free, for the two waiting, in the order they answered.
    smtp.clear()
    await _answer(admin_client, url[0], "no")
    statuses = await invitation_status(engine, event["id"])
    assert [statuses[p] for p, _ in people[:3]] == ["no", "yes", "yes"]
    await run_worker()
    for _, email in people[1:3]:
        [promoted] = smtp.to(email)
        assert promoted.message["Subject"].startswith("Une place s’est libérée")
        assert str(vevent_of(calendar_of(promoted))["UID"]) == f"event-{event['id']}@example.org"
    [declined] = smtp.to(people[0][1])
    assert declined.message["Subject"].startswith("Réponse enregistrée")
    figures = (await admin_client.get(f"/api/v1/events/{event['id']}")).json()["figures"]
    assert (figures["yes"], figures["no"], figures["waiting"], figures["seats_taken"]) == (2, 1, 0, 2)

    # Full again: a guest cannot be added, the person keeps their own seat.
    guest = await _answer(admin_client, url[1], "yes", with_guest="on")
    assert "Il ne reste pas de place pour une personne accompagnante" in guest.text
    assert (await invitation_status(engine, event["id"]))[people[1][0]] == "yes"


@pytest.mark.parametrize("contenders", [2, 6])
async def test_the_last_seat_goes_to_exactly_one_of_concurrent_answers(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Any, contenders: int
) -> None:
    from crm.app import create_app

    event = await make_event(admin_client, capacity=3)
    list_id = await make_list(engine, "l")
    people = await make_audience(engine, list_id, 2 + contenders)
    await invite(engine, event["id"], people)
    for pid, _ in people[:2]:
        await _answer(admin_client, rsvp_url(settings, event["id"], pid), "yes")

    # Several API processes: one app per contender pair, each with its own connection pool.
    apps = [create_app(settings) for _ in range(2)]
    clients = [AsyncTestClient(app=a) for a in apps]
    for c in clients:
        await c.__aenter__()
    try:
        answers = await asyncio.gather(
            *(
                _answer(clients[i % 2], rsvp_url(settings, event["id"], pid), "yes")
                for i, (pid, _) in enumerate(people[2:])
            )
        )
    finally:
        for c in clients:
            await c.__aexit__(None, None, None)
    assert all(a.status_code == 200 for a in answers)
    statuses = await invitation_status(engine, event["id"])
    contenders_status = sorted(statuses[pid] for pid, _ in people[2:])
    assert contenders_status == ["waiting"] * (contenders - 1) + ["yes"]
    assert sum("participation est enregistrée" in a.text for a in answers) == 1


async def test_opened_beacon_and_get_never_change_anything_else(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Any
) -> None:
    event = await make_event(admin_client)
    list_id = await make_list(engine, "l")
    [(person_id, _)] = await make_audience(engine, list_id, 1)
    await invite(engine, event["id"], [(person_id, "")])
    url = rsvp_url(settings, event["id"], person_id, "no")
    for _ in range(2):
        assert (await admin_client.get(_path(url))).status_code == 200
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT status, answered_at, first_opened_at FROM invitation WHERE person_id = :p"),
                {"p": person_id},
            )
        ).one()
    assert tuple(row) == ("invited", None, None)


def test_the_event_message_template_keeps_its_placeholders() -> None:
    from crm.config import OrganisationSettings
    from crm.lib.mail import base_context, load_template

    template = load_template("events/notification")
    values = {
        "heading": "ZZHEADZZ",
        "name": "ZZNAMEZZ",
        "lead": "ZZLEADZZ",
        "event_title": "ZZTITLEZZ",
        "event_when": "ZZWHENZZ",
        "event_place": "ZZPLACEZZ",
        "online_url": "https://example.org/ZZONLINEZZ",
        "closing": "ZZCLOSINGZZ",
        "rsvp_url": "https://example.org/ZZRSVPZZ",
        "reason": "ZZREASONZZ",
        "note": "ZZNOTEZZ",
        "seats": "ZZSEATSZZ",
        "rsvp_yes_url": "https://example.org/ZZYESZZ",
        "rsvp_no_url": "https://example.org/ZZNOZZ",
    }
    html, plain = template.render(base_context(OrganisationSettings(name="ZZORGZZ")) | values)
    for body in (html, plain):
        for value in [*values.values(), "ZZORGZZ"]:
            assert value.split("/")[-1] in body
        assert "{{" not in body


def test_paris_local_time_is_read_as_paris_time() -> None:
    from crm.lib.timezones import to_utc

    winter = to_utc(datetime(2027, 1, 15, 14, 30))
    summer = to_utc(datetime(2027, 7, 15, 14, 30))
    assert (winter.hour, summer.hour) == (13, 12)
    assert to_utc(datetime(2027, 7, 15, 14, 30, tzinfo=ZoneInfo("America/Martinique"))).hour == 18


async def test_two_transactions_on_the_last_seat_cannot_both_get_it(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Any
) -> None:
    """The second answer reads the seats while the first is still uncommitted: without the row
    lock on the event it would see a free seat too."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from crm.domain.events.services import answer

    event = await make_event(admin_client, capacity=1)
    list_id = await make_list(engine, "l")
    people = await make_audience(engine, list_id, 2)
    await invite(engine, event["id"], people)
    async with AsyncSession(engine) as first, AsyncSession(engine) as second:
        mine = await answer(first, event["id"], people[0][0], yes=True, with_guest=False)
        assert mine.state == "yes"
        theirs = asyncio.create_task(answer(second, event["id"], people[1][0], yes=True, with_guest=False))
        done, _ = await asyncio.wait({theirs}, timeout=0.5)
        assert not done, "the second answer must wait for the first one's transaction"
        await first.commit()
        assert (await theirs).state == "waiting"
        await second.commit()
    statuses = await invitation_status(engine, event["id"])
    assert sorted(statuses.values()) == ["waiting", "yes"]


async def _statuses(engine: AsyncEngine, event_id: str, people: list[Any]) -> list[str]:
    statuses = await invitation_status(engine, event_id)
    return [statuses[pid] for pid, _ in people]


async def test_a_seat_goes_to_whoever_it_fits_not_only_to_the_head_of_the_waiting_list(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    event = await make_event(admin_client, capacity=2, guests_allowed=True)
    list_id = await make_list(engine, "l")
    people = await make_audience(engine, list_id, 5)
    await invite(engine, event["id"], people)
    url = [rsvp_url(settings, event["id"], pid) for pid, _ in people]

    assert "participation est enregistrée" in (await _answer(admin_client, url[0], "yes")).text
    # One seat left: not enough for two, and the page does not pretend the event is full.
    pair = await _answer(admin_client, url[1], "yes", with_guest="on")
    assert pair.status_code == 200
    assert "liste d’attente" in pair.text
    assert "Il reste une place" in pair.text
    assert "complet" not in pair.text
    # That free seat fits the next single, although the pair waits before them.
    single = await _answer(admin_client, url[2], "yes")
    assert "participation est enregistrée" in single.text
    full = await _answer(admin_client, url[3], "yes")
    assert "L’événement est complet" in full.text
    await _answer(admin_client, url[4], "yes")
    assert await _statuses(engine, event["id"], people) == ["yes", "waiting", "yes", "waiting", "waiting"]

    # A freed seat goes to the first waiting person it fits, in waiting order: the pair keeps its
    # rank, the next single gets the seat, then the one after them.
    await _answer(admin_client, url[0], "no")
    assert await _statuses(engine, event["id"], people) == ["no", "waiting", "yes", "yes", "waiting"]
    await _answer(admin_client, url[2], "no")
    assert await _statuses(engine, event["id"], people) == ["no", "waiting", "no", "yes", "yes"]
    # Two more seats: now the pair fits.
    raised = await admin_client.patch(f"/api/v1/events/{event['id']}", json={"capacity": 4})
    assert raised.status_code == 200, raised.text
    assert raised.json()["figures"] | {"yes": 3, "waiting": 0, "seats_taken": 4} == raised.json()["figures"]
    assert await _statuses(engine, event["id"], people) == ["no", "yes", "no", "yes", "yes"]

    await run_worker()
    for _, email in (people[1], people[3], people[4]):
        assert any(m.message["Subject"].startswith("Une place s’est libérée") for m in smtp.to(email))


async def test_a_guest_the_capacity_can_never_hold_is_refused_and_never_blocks_a_free_seat(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    """The tester's workshop: one seat, guests allowed, people waiting with a guest (as the old rule
    left them), the seat empty. A single gets it; a pair is taken alone, never waits forever."""
    event = await make_event(admin_client, kind="workshop", capacity=1, guests_allowed=True)
    list_id = await make_list(engine, "l")
    people = await make_audience(engine, list_id, 5)
    await invite(engine, event["id"], people)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE invitation SET status = 'waiting', with_guest = true, answered_at = now(), "
                "waiting_since = now() - make_interval(mins => :rank) WHERE person_id = :person"
            ),
            [{"person": pid, "rank": 10 - rank} for rank, (pid, _) in enumerate(people[:3])],
        )
    ana = rsvp_url(settings, event["id"], people[3][0])
    answered = await _answer(admin_client, ana, "yes")
    assert "participation est enregistrée" in answered.text
    assert "complet" not in answered.text
    assert await _statuses(engine, event["id"], people) == ["waiting", "waiting", "waiting", "yes", "invited"]

    # A pair that one seat can never hold: told so, and waits alone rather than forever.
    pair = await _answer(admin_client, rsvp_url(settings, event["id"], people[4][0]), "yes", with_guest="on")
    assert pair.status_code == 200
    assert "La personne accompagnante ne peut pas être acceptée" in pair.text
    invitations = (await admin_client.get(f"/api/v1/events/{event['id']}/invitations")).json()["items"]
    latest = next(i for i in invitations if i["person_id"] == str(people[4][0]))
    assert (latest["status"], latest["with_guest"]) == ("waiting", False)

    # Ana cannot come after all: the seat goes to the first waiting, alone.
    await _answer(admin_client, ana, "no")
    assert await _statuses(engine, event["id"], people) == ["yes", "waiting", "waiting", "no", "waiting"]
    figures = (await admin_client.get(f"/api/v1/events/{event['id']}")).json()["figures"]
    assert figures["seats_taken"] == 1
    await run_worker()
    [promoted] = smtp.to(people[0][1])
    assert promoted.message["Subject"].startswith("Une place s’est libérée")


async def test_a_no_after_a_yes_is_confirmed_and_removes_the_calendar_entry(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    event = await make_event(admin_client, capacity=1)
    list_id = await make_list(engine, "l")
    people = await make_audience(engine, list_id, 2)
    await invite(engine, event["id"], people)
    (person_id, email), (other_id, other_email) = people
    url = rsvp_url(settings, event["id"], person_id)
    uid = f"event-{event['id']}@example.org"

    await _answer(admin_client, url, "yes")
    await run_worker()
    [confirmation] = smtp.to(email)
    assert int(vevent_of(calendar_of(confirmation))["SEQUENCE"]) == 0
    [part] = [p for p in confirmation.message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_content_charset() == "utf-8"
    assert part.get_param("method") == "REQUEST"
    assert "Cérémonie des labels" in part.get_payload(decode=True).decode(part.get_content_charset())

    smtp.clear()
    declined = await _answer(admin_client, url, "no")
    assert "retire le rendez-vous de votre agenda" in declined.text
    await run_worker()
    [message] = smtp.to(email)
    assert message.message["Subject"].startswith("Réponse enregistrée")
    assert "ne participerez pas" in message.text
    [part] = [p for p in message.message.walk() if p.get_content_type() == "text/calendar"]
    assert (part.get_param("method"), part.get_content_charset()) == ("CANCEL", "utf-8")
    cal = calendar_of(message)
    assert str(cal["METHOD"]) == "CANCEL"
    vevent = vevent_of(cal)
    assert str(vevent["UID"]) == uid
    assert int(vevent["SEQUENCE"]) == 1
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert vevent["ATTENDEE"].params["PARTSTAT"] == "DECLINED"

    # Changing one's mind again: the new entry is newer than the removal.
    smtp.clear()
    await _answer(admin_client, url, "yes")
    await run_worker()
    [again] = smtp.to(email)
    assert again.message["Subject"].startswith("Participation confirmée")
    assert str(vevent_of(calendar_of(again))["UID"]) == uid
    assert int(vevent_of(calendar_of(again))["SEQUENCE"]) == 2

    # A no from the waiting list had no calendar entry to remove: no message.
    other = rsvp_url(settings, event["id"], other_id)
    await _answer(admin_client, other, "yes")
    await run_worker()
    smtp.clear()
    await _answer(admin_client, other, "no")
    await run_worker()
    assert smtp.to(other_email) == []


async def test_a_double_click_on_yes_keeps_the_seat_and_tells_one_story(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Any
) -> None:
    """The same person sends "yes" twice at once on a one-seat event: the second answer must see
    the first one's seat as theirs, not as taken by someone else."""
    from crm.app import create_app

    event = await make_event(admin_client, capacity=1)
    list_id = await make_list(engine, "l")
    people = await make_audience(engine, list_id, 1)
    await invite(engine, event["id"], people)
    url = rsvp_url(settings, event["id"], people[0][0])
    apps = [create_app(settings) for _ in range(2)]
    clients = [AsyncTestClient(app=a) for a in apps]
    for c in clients:
        await c.__aenter__()
    try:
        answers = await asyncio.gather(*(_answer(clients[i % 2], url, "yes") for i in range(4)))
    finally:
        for c in clients:
            await c.__aexit__(None, None, None)
    assert all(a.status_code == 200 for a in answers)
    assert (await invitation_status(engine, event["id"]))[people[0][0]] == "yes"
    assert not any("liste d’attente" in a.text for a in answers)
    figures = (await admin_client.get(f"/api/v1/events/{event['id']}")).json()["figures"]
    assert (figures["yes"], figures["waiting"], figures["seats_taken"]) == (1, 0, 1)


async def test_a_second_yes_waiting_on_the_first_sees_the_seat_as_its_own(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Any
) -> None:
    """The double click, step by step: the second request has read the page's invitation (as the
    answer controller does) before the first one commits; once it gets the lock it must read the
    answer afresh, or it counts its own seat as someone else's and puts the person on the waiting list."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from crm.domain.events.services import answer
    from crm.domain.public.rsvp import _load

    event = await make_event(admin_client, capacity=1)
    list_id = await make_list(engine, "l")
    [(person_id, email)] = await make_audience(engine, list_id, 1)
    await invite(engine, event["id"], [(person_id, email)])
    async with AsyncSession(engine) as first, AsyncSession(engine) as second:
        # Held, as the controller holds it: the session's identity map keeps it while referenced.
        shown = await _load(second, event["id"], person_id)
        assert (await answer(first, event["id"], person_id, yes=True, with_guest=False)).state == "yes"
        theirs = asyncio.create_task(answer(second, event["id"], person_id, yes=True, with_guest=False))
        await first.commit()
        outcome = await theirs
        assert outcome.invitation is shown[1]
        await second.commit()
    assert outcome.state == "yes"
    assert outcome.seats_left == 0
    assert (await invitation_status(engine, event["id"]))[person_id] == "yes"
