from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient

from crm.app import create_app
from crm.db.models.staff import StaffRole
from tests.conftest import PASSWORD, log_in
from tests.smtp import SmtpSink


async def test_each_role_on_a_staff_write(client: AsyncTestClient[Any], make_staff: Any) -> None:
    invite = {"email": "nouvelle@example.org", "name": "Nouvelle", "role": "viewer"}
    assert (await client.post("/api/v1/staff", json=invite)).status_code == 401
    for role in (StaffRole.VIEWER, StaffRole.EDITOR):
        account = await make_staff(role)
        await log_in(client, account.email)
        refused = await client.post("/api/v1/staff", json=invite)
        assert refused.status_code == 403, role
        assert "admin role" in refused.json()["detail"]
        assert (await client.get("/api/v1/staff")).status_code == 403
    admin = await make_staff(StaffRole.ADMIN)
    await log_in(client, admin.email)
    created = await client.post("/api/v1/staff", json=invite)
    assert created.status_code == 201
    assert created.json()["has_password"] is False


async def test_an_invited_person_chooses_a_password_from_the_emailed_link_and_logs_in(
    admin_client: AsyncTestClient[Any], smtp: SmtpSink, run_worker: Any
) -> None:
    response = await admin_client.post(
        "/api/v1/staff", json={"email": "Chargee.Com@Example.org", "name": "Chloé d'Arbois", "role": "editor"}
    )
    assert response.status_code == 201
    assert response.json()["email"] == "chargee.com@example.org"
    await run_worker()
    [message] = smtp.to("chargee.com@example.org")
    assert "Invitation" in message.message["Subject"]
    assert "Chloé d'Arbois" in message.text
    assert "« éditeur·rice »" in message.text
    token = re.search(r"/staff/invitation\?token=([\w-]+)", message.text).group(1)  # type: ignore[union-attr]
    assert token in message.html

    # The worker running again (a retry, a restart) does not send a second invitation.
    await run_worker()
    assert len(smtp.to("chargee.com@example.org")) == 1

    too_short = await admin_client.post("/api/v1/auth/accept-invitation", json={"token": token, "password": "court"})
    assert too_short.status_code == 422
    assert too_short.json()["errors"][0]["field"] == "password"
    accepted = await admin_client.post("/api/v1/auth/accept-invitation", json={"token": token, "password": PASSWORD})
    assert accepted.status_code == 204
    reused = await admin_client.post("/api/v1/auth/accept-invitation", json={"token": token, "password": PASSWORD})
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["field"] == "token"

    admin_client.cookies.clear()
    me = await log_in(admin_client, "chargee.com@example.org")
    assert me["role"] == "editor"


async def test_inviting_an_existing_address_is_a_conflict(admin_client: AsyncTestClient[Any]) -> None:
    response = await admin_client.post("/api/v1/staff", json={"email": "ADMIN@example.org", "role": "viewer"})
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "email"


async def test_changing_a_role_ends_that_persons_sessions(
    settings: Any, admin_client: AsyncTestClient[Any], make_staff: Any
) -> None:
    editor = await make_staff(StaffRole.EDITOR)
    async with AsyncTestClient(app=create_app(settings)) as editor_client:
        await log_in(editor_client, editor.email)
        assert (await editor_client.get("/api/v1/auth/me")).json()["role"] == "editor"
        changed = await admin_client.patch(f"/api/v1/staff/{editor.id}", json={"role": "viewer"})
        assert changed.status_code == 200
        assert changed.json()["role"] == "viewer"
        assert (await editor_client.get("/api/v1/auth/me")).status_code == 401
        await log_in(editor_client, editor.email)
        assert (await editor_client.get("/api/v1/auth/me")).json()["role"] == "viewer"


async def test_a_deactivated_person_is_logged_out_and_cannot_come_back(
    settings: Any, admin_client: AsyncTestClient[Any], make_staff: Any
) -> None:
    viewer = await make_staff(StaffRole.VIEWER)
    async with AsyncTestClient(app=create_app(settings)) as viewer_client:
        await log_in(viewer_client, viewer.email)
        response = await admin_client.patch(f"/api/v1/staff/{viewer.id}", json={"is_active": False})
        assert response.json()["is_active"] is False
        assert (await viewer_client.get("/api/v1/auth/me")).status_code == 401
        again = await viewer_client.post("/api/v1/auth/login", json={"email": viewer.email, "password": PASSWORD})
        assert again.status_code == 401


async def test_the_last_admin_cannot_be_demoted(admin_client: AsyncTestClient[Any], make_staff: Any) -> None:
    me = (await admin_client.get("/api/v1/auth/me")).json()
    self_demote = await admin_client.patch(f"/api/v1/staff/{me['id']}", json={"role": "editor"})
    assert self_demote.status_code == 422
    other = await make_staff(StaffRole.ADMIN, email="autre@example.org")
    assert (await admin_client.patch(f"/api/v1/staff/{other.id}", json={"role": "editor"})).status_code == 200
    listed = (await admin_client.get("/api/v1/staff", params={"role": "admin"})).json()
    assert [s["email"] for s in listed["items"]] == ["admin@example.org"]


async def test_staff_list_pages_sorts_and_searches(admin_client: AsyncTestClient[Any], make_staff: Any) -> None:
    for i in range(4):
        await make_staff(StaffRole.VIEWER, email=f"personne{i}@example.org")
    page = (await admin_client.get("/api/v1/staff", params={"limit": 2, "offset": 1, "sort": "-email"})).json()
    assert page["total"] == 5
    assert page["limit"] == 2
    assert page["offset"] == 1
    assert [s["email"] for s in page["items"]] == ["personne2@example.org", "personne1@example.org"]
    past_the_end = (await admin_client.get("/api/v1/staff", params={"limit": 2, "offset": 10})).json()
    assert past_the_end["items"] == []
    assert past_the_end["total"] == 5  # still the true total, as a pager needs
    found = (await admin_client.get("/api/v1/staff", params={"q": "NNE3"})).json()
    assert [s["email"] for s in found["items"]] == ["personne3@example.org"]
    bad = await admin_client.get("/api/v1/staff", params={"sort": "password_hash"})
    assert bad.status_code == 400  # a bad query parameter: `sort` is an enum in the schema
    assert bad.json()["errors"][0]["field"] == "sort"


async def test_changes_to_staff_are_audited_without_secrets(
    admin_client: AsyncTestClient[Any], make_staff: Any
) -> None:
    viewer = await make_staff(StaffRole.VIEWER)
    await admin_client.patch(f"/api/v1/staff/{viewer.id}", json={"name": "Renommée", "role": "editor"})
    me = (await admin_client.get("/api/v1/auth/me")).json()
    log = (await admin_client.get("/api/v1/audit-log", params={"entity_id": viewer.id})).json()["items"]
    actions = [(e["action"], e["actor_type"]) for e in log]
    assert actions == [("update", "staff"), ("create", "system")]
    update = log[0]
    assert update["actor_id"] == me["id"]
    assert update["changes"]["role"] == {"old": "viewer", "new": "editor"}
    assert update["changes"]["name"]["new"] == "Renommée"
    assert log[1]["changes"]["password_hash"] == "[redacted]"


async def test_the_invitation_link_opens_a_page_that_sets_the_password(
    admin_client: AsyncTestClient[Any], smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    await admin_client.post("/api/v1/staff", json={"email": "dgs@example.org", "name": "Élise", "role": "viewer"})
    await run_worker()
    [message] = smtp.to("dgs@example.org")
    link = re.search(r"(http\S+/staff/invitation\?token=[\w-]+)", message.text).group(1)  # type: ignore[union-attr]
    path = link.removeprefix(settings.public_url)
    admin_client.cookies.clear()
    shown = await admin_client.get(path)
    assert shown.status_code == 200
    assert "Choisissez le mot de passe" in shown.text
    token = path.split("token=", 1)[1]
    differ = await admin_client.post(
        "/staff/invitation", data={"token": token, "password": PASSWORD, "password_again": PASSWORD + "x"}
    )
    assert differ.status_code == 422
    assert "diffèrent" in differ.text
    done = await admin_client.post(
        "/staff/invitation", data={"token": token, "password": PASSWORD, "password_again": PASSWORD}
    )
    assert done.status_code == 200
    assert "Compte activé" in done.text
    again = await admin_client.post(
        "/staff/invitation", data={"token": token, "password": PASSWORD, "password_again": PASSWORD}
    )
    assert again.status_code == 410
    assert (await log_in(admin_client, "dgs@example.org"))["role"] == "viewer"


async def test_a_deleted_record_stays_named_in_the_audit_log(
    admin_client: AsyncTestClient[Any], make_staff: Any, settings: Any
) -> None:
    viewer = await make_staff(StaffRole.VIEWER, email="ancien@example.org")
    # Staff accounts are deactivated, not deleted; tags show deletion through the same hook.
    created = await admin_client.post("/api/v1/tags", json={"name": "Villes d’Or"})
    assert created.status_code == 201
    tag_id = created.json()["id"]
    assert (await admin_client.delete(f"/api/v1/tags/{tag_id}")).status_code == 204
    [deleted] = (await admin_client.get("/api/v1/audit-log", params={"entity_id": tag_id, "action": "delete"})).json()[
        "items"
    ]
    assert deleted["changes"]["name"] == "Villes d’Or"
    # Logging in updates last_login_at: the login entry says it, no second "update" entry.
    async with AsyncTestClient(app=create_app(settings)) as viewer_client:
        await log_in(viewer_client, viewer.email)
    entries = (await admin_client.get("/api/v1/audit-log", params={"entity_id": viewer.id})).json()["items"]
    assert [e["action"] for e in entries] == ["login", "create"]
