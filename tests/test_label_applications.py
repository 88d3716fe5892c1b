"""The label's year as staff, cities and the jury live it: opening the year invites the members'
contacts, cities apply from their link, an outside juror's link opens only the applications
assigned to them, a staff juror scores through the API, and the decision becomes the city's label
in the palmarès, e-mailed to the city. Real PostgreSQL, Redis, worker and SMTP server."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.events_helpers import make_event
from tests.smtp import SmtpSink
from tests.test_questionnaires import link_of, member_with_colleagues

YEAR = 2026


async def test_jury_links_see_only_their_applications_and_decisions_feed_the_palmares(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, make_staff: Any
) -> None:
    ajaccio, _ = await member_with_colleagues(engine, 1, "2A004")
    await member_with_colleagues(engine, 1, "13055")
    opened = await admin_client.post("/api/v1/questionnaires/label-years", json={"year": YEAR})
    assert opened.status_code == 201, opened.text
    assert opened.json()["invited"] == 2
    questionnaire_id = opened.json()["questionnaire"]["id"]
    again = await admin_client.post("/api/v1/questionnaires/label-years", json={"year": YEAR})
    assert again.status_code == 409
    await run_worker()
    for insee in ("2a004", "13055"):
        link = link_of(smtp, f"col0.{insee}@example.org")
        applied = await admin_client.post(link, data={"contact_name": "DGS", "actions": f"Actions de {insee}"})
        assert applied.status_code == 200, applied.text
    scores = (await admin_client.get(f"/api/v1/questionnaires/{questionnaire_id}/scores")).json()
    by_city = {item["insee_code"]: item["response_id"] for item in scores["items"]}
    assert {item["status"] for item in scores["items"]} == {"submitted"}

    juror = await admin_client.post(
        f"/api/v1/questionnaires/{questionnaire_id}/jury",
        json={"name": "Juré Extérieur", "email": "jure@example.org", "response_ids": [by_city["2A004"]]},
    )
    assert juror.status_code == 201, juror.text
    await run_worker()
    [invitation] = smtp.to("jure@example.org")
    found = re.search(r"http://testserver\.local(/jury/[A-Za-z0-9._\-]+)", invitation.text)
    assert found is not None
    jury_link = found.group(1)
    listing = await admin_client.get(jury_link)
    assert "Ville 2A004" in listing.text
    assert "Ville 13055" not in listing.text
    assert "Actions de 2a004" in (await admin_client.get(f"{jury_link}/applications/{by_city['2A004']}")).text
    other = await admin_client.get(f"{jury_link}/applications/{by_city['13055']}")
    assert other.status_code == 404
    assert "Actions de 13055" not in other.text
    refused = await admin_client.post(f"{jury_link}/applications/{by_city['13055']}", data={"strategy": "10"})
    assert refused.status_code == 404
    scored = await admin_client.post(
        f"{jury_link}/applications/{by_city['2A004']}", data={"strategy": "8", "services": "7", "comment": "Solide"}
    )
    assert scored.status_code == 200
    assert "Vos notes sont enregistrées" in scored.text
    tampered = jury_link[:-3] + ("AAA" if not jury_link.endswith("AAA") else "BBB")
    assert (await admin_client.get(tampered)).status_code == 400

    # A staff account on the jury scores through the API; one off the jury may not.
    admin_id = (await admin_client.get("/api/v1/auth/me")).json()["id"]
    not_juror = await admin_client.post(
        f"/api/v1/questionnaires/{questionnaire_id}/responses/{by_city['13055']}/scores",
        json={"scores": [{"criterion": "strategy", "points": 5}]},
    )
    assert not_juror.status_code == 403
    await admin_client.post(f"/api/v1/questionnaires/{questionnaire_id}/jury", json={"staff_id": admin_id})
    staff_scored = await admin_client.post(
        f"/api/v1/questionnaires/{questionnaire_id}/responses/{by_city['2A004']}/scores",
        json={
            "scores": [{"criterion": "strategy", "points": 6}, {"criterion": "services", "points": 5}],
            "comment": "Bien",
        },
    )
    assert staff_scored.status_code == 200, staff_scored.text
    too_many = await admin_client.post(
        f"/api/v1/questionnaires/{questionnaire_id}/responses/{by_city['2A004']}/scores",
        json={"scores": [{"criterion": "strategy", "points": 11}]},
    )
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "scores.0.points"
    board = (await admin_client.get(f"/api/v1/questionnaires/{questionnaire_id}/scores")).json()
    [row] = [item for item in board["items"] if item["insee_code"] == "2A004"]
    assert sorted(s["total"] for s in row["scores"]) == [11, 15]
    assert row["average"] == 13
    assert row["status"] == "under_review"

    decided = await admin_client.post(
        f"/api/v1/questionnaires/{questionnaire_id}/responses/{by_city['2A004']}/decision",
        json={"level": 4, "green": True},
    )
    assert decided.status_code == 200, decided.text
    palmares = (await admin_client.get(f"/api/v1/labels/palmares?year={YEAR}")).json()
    assert [(e["organisation_id"], e["level"], e["green"]) for e in palmares["items"]] == [(str(ajaccio), 4, True)]
    # Deciding again changes the label rather than adding a second one.
    await admin_client.post(
        f"/api/v1/questionnaires/{questionnaire_id}/responses/{by_city['2A004']}/decision", json={"level": 5}
    )
    async with engine.connect() as conn:
        labels = (await conn.execute(text("SELECT level, green FROM label_award"))).all()
    assert [tuple(r) for r in labels] == [(5, False)]
    await run_worker()
    results = [m.text for m in smtp.to("col0.2a004@example.org") if "Résultat du label" in m.message["Subject"]]
    assert len(results) == 2  # one per decision, the second with the level changed
    assert any("5 @" in body for body in results)

    # The labelled city's contacts are invited to the ceremony; the city not decided is not.
    ceremony = await make_event(admin_client)
    invited = await admin_client.post(
        f"/api/v1/questionnaires/{questionnaire_id}/ceremony", json={"event_id": ceremony["id"]}
    )
    assert invited.status_code == 200, invited.text
    assert invited.json()["invited"] == 1
    await run_worker()
    assert any("Cérémonie" in m.message["Subject"] for m in smtp.to("col0.2a004@example.org"))
    assert not any("Cérémonie" in m.message["Subject"] for m in smtp.to("col0.13055@example.org"))
