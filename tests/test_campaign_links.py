"""A signed link only ever reaches its own recipient: previews, test sends and the public archive
carry links that do nothing but say they belong to a preview; a real delivery keeps the real ones."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.db.models.staff import StaffRole
from tests.conftest import log_in
from tests.events_helpers import make_event
from tests.mailing_helpers import make_list
from tests.sending_helpers import make_audience
from tests.smtp import SmtpSink

CONTENT = {"blocks": [{"type": "text", "text": "Bonjour {{ first_name }},\n\nÀ bientôt."}]}
PERSONAL = ("/u/", "/p/", "/rsvp/")


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


async def invitation(client: AsyncTestClient[Any], list_id: Any, **extra: Any) -> dict[str, Any]:
    event = await make_event(client)
    response = await client.post(
        "/api/v1/campaigns",
        json={
            "name": "Invitation",
            "kind": "invitation",
            "subject": "Venez à la cérémonie",
            "list_id": str(list_id),
            "event_id": event["id"],
            "content": CONTENT,
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def subscription_status(engine: AsyncEngine, person_id: Any) -> str:
    async with engine.connect() as conn:
        return await conn.scalar(text("SELECT status FROM subscription WHERE person_id = :p"), {"p": person_id})


async def test_a_viewer_preview_of_someone_gives_no_link_that_acts_for_them(
    client: AsyncTestClient[Any], make_staff: Any, engine: AsyncEngine, settings: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 2)
    admin = await make_staff(StaffRole.ADMIN)
    await log_in(client, admin.email)
    campaign = await invitation(client, list_id)
    viewer = await make_staff(StaffRole.VIEWER)
    await log_in(client, viewer.email)

    preview = await client.get(f"/api/v1/campaigns/{campaign['id']}/preview", params={"person_id": str(people[1][0])})
    assert preview.status_code == 200
    assert "Bonjour Prénom1," in preview.text
    links = hrefs(preview.text)
    for fragment in PERSONAL:
        assert fragment not in preview.text
    inert = [link for link in links if link.startswith(f"{settings.public_url}/preview-link")]
    # Unsubscribe, preferences, and both RSVP answers: each says it belongs to a preview.
    assert len(inert) >= 4

    client.cookies.clear()
    for link in inert:
        path = link.removeprefix(settings.public_url)
        for response in (await client.get(path), await client.post(path, data={"answer": "yes"})):
            assert response.status_code == 200
            assert "aperçu" in response.text
            assert "ne fait rien" in response.text
    assert await subscription_status(engine, people[1][0]) == "subscribed"
    async with engine.connect() as conn:
        by_contact = await conn.scalar(text("SELECT count(*) FROM audit_log WHERE actor_type = 'contact'"))
        answered = await conn.scalar(text("SELECT count(*) FROM invitation"))
    assert by_contact == 0
    assert answered == 0


async def test_a_test_send_of_an_invitation_carries_no_answer_link_of_the_recipient(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 2)
    campaign = await invitation(admin_client, list_id)
    test = await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/test", json={"person_id": str(people[0][0])})
    assert test.status_code == 202
    await run_worker()
    [message] = smtp.to("admin@example.org")
    assert "Bonjour Prénom0," in message.text
    for body in (message.html, message.text):
        for fragment in PERSONAL:
            assert fragment not in body
    assert f"{settings.public_url}/preview-link" in message.html


async def test_the_archive_of_an_invitation_links_nowhere_and_deliveries_keep_their_own_links(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 2)
    campaign = await invitation(admin_client, list_id, is_public=True)
    assert (await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")).status_code == 202
    await run_worker()

    view = await admin_client.get(f"/archive/campaigns/{campaign['id']}")
    assert view.status_code == 200
    for fragment in PERSONAL:
        assert fragment not in view.text
    assert 'href=""' not in view.text
    assert f"{settings.public_url}/preview-link" in view.text

    [message] = smtp.to(people[0][1])
    links = hrefs(message.html)
    assert any(link.startswith(f"{settings.public_url}/u/") for link in links)
    assert any(link.startswith(f"{settings.public_url}/p/") for link in links)
    assert any(link.startswith(f"{settings.public_url}/rsvp/") for link in links)
    assert "/preview-link" not in message.html


async def test_a_staff_change_to_a_subscription_is_audited_as_that_staff_member(
    client: AsyncTestClient[Any], make_staff: Any, engine: AsyncEngine
) -> None:
    list_id = await make_list(engine, "lettre")
    [(person_id, _email)] = await make_audience(engine, list_id, 1)
    editor = await make_staff(StaffRole.EDITOR)
    await log_in(client, editor.email)
    async with engine.connect() as conn:
        subscription_id = await conn.scalar(text("SELECT id FROM subscription WHERE person_id = :p"), {"p": person_id})
    changed = await client.patch(f"/api/v1/subscriptions/{subscription_id}", json={"status": "unsubscribed"})
    assert changed.status_code == 200, changed.text
    async with engine.connect() as conn:
        actors = (
            await conn.execute(
                text(
                    "SELECT actor_type, actor_id FROM audit_log WHERE entity_type = 'subscription' AND entity_id = :s"
                ),
                {"s": subscription_id},
            )
        ).all()
    assert actors
    assert {(kind, str(actor)) for kind, actor in actors} == {("staff", editor.id)}
