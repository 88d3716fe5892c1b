from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from crm.db.models.staff import StaffRole
from tests.conftest import PASSWORD, log_in


async def test_login_sets_a_protected_session_cookie_and_gives_a_csrf_token(
    client: AsyncTestClient[Any], make_staff: Any
) -> None:
    account = await make_staff(StaffRole.EDITOR)
    response = await client.post("/api/v1/auth/login", json={"email": "  EDITOR@example.org ", "password": PASSWORD})
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == account.email
    assert body["role"] == "editor"
    assert len(body["csrf_token"]) > 20
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("crm_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["id"] == account.id


async def test_session_cookie_is_secure_outside_local_runs(settings: Any, make_staff: Any) -> None:
    from crm.app import create_app

    settings.security.secure_cookies = True
    await make_staff(StaffRole.VIEWER)
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.post("/api/v1/auth/login", json={"email": "viewer@example.org", "password": PASSWORD})
    assert "Secure" in response.headers["set-cookie"]


async def test_wrong_password_or_unknown_account_is_refused_alike(
    client: AsyncTestClient[Any], make_staff: Any
) -> None:
    await make_staff(StaffRole.ADMIN)
    wrong = await client.post("/api/v1/auth/login", json={"email": "admin@example.org", "password": "nope-nope-nope"})
    unknown = await client.post("/api/v1/auth/login", json={"email": "who@example.org", "password": PASSWORD})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["detail"] == "Wrong e-mail or password"
        assert "set-cookie" not in response.headers
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_deactivated_account_cannot_log_in(client: AsyncTestClient[Any], make_staff: Any) -> None:
    await make_staff(StaffRole.EDITOR, active=False)
    response = await client.post("/api/v1/auth/login", json={"email": "editor@example.org", "password": PASSWORD})
    assert response.status_code == 401


async def test_failed_logins_are_limited_per_account_with_a_429_that_says_when(
    client: AsyncTestClient[Any], make_staff: Any, settings: Any
) -> None:
    await make_staff(StaffRole.ADMIN)
    limit = settings.security.login_max_failures_per_account
    statuses = []
    for _ in range(limit):
        r = await client.post("/api/v1/auth/login", json={"email": "admin@example.org", "password": "wrong-password"})
        statuses.append(r.status_code)
    assert statuses[:-1] == [401] * (limit - 1)
    assert statuses[-1] == 429
    # Now even the right password waits: the account is protected, not just the guess.
    blocked = await client.post("/api/v1/auth/login", json={"email": "admin@example.org", "password": PASSWORD})
    assert blocked.status_code == 429
    retry_after = int(blocked.headers["retry-after"])
    assert 0 < retry_after <= settings.security.login_window_seconds
    body = blocked.json()
    assert body["retry_after"] == retry_after
    assert f"{retry_after} seconds" in body["detail"]


async def test_failed_logins_are_limited_per_address_across_accounts(
    client: AsyncTestClient[Any], make_staff: Any, settings: Any
) -> None:
    await make_staff(StaffRole.ADMIN)
    limit = settings.security.login_max_failures_per_address
    last = None
    for i in range(limit):
        last = await client.post("/api/v1/auth/login", json={"email": f"guess{i}@example.org", "password": "x" * 12})
    assert last is not None
    assert last.status_code == 429
    # A real account from the same address is blocked as well until the window passes.
    response = await client.post("/api/v1/auth/login", json={"email": "admin@example.org", "password": PASSWORD})
    assert response.status_code == 429


async def test_rate_limit_is_shared_by_api_processes(settings: Any, make_staff: Any) -> None:
    """Two app instances stand for two API processes: failures on one count on the other."""
    from crm.app import create_app

    await make_staff(StaffRole.ADMIN)
    limit = settings.security.login_max_failures_per_account
    async with (
        AsyncTestClient(app=create_app(settings)) as one,
        AsyncTestClient(app=create_app(settings)) as two,
    ):
        for i in range(limit - 1):
            await (one if i % 2 else two).post(
                "/api/v1/auth/login", json={"email": "admin@example.org", "password": "wrong-password"}
            )
        r = await one.post("/api/v1/auth/login", json={"email": "admin@example.org", "password": "wrong-password"})
        assert r.status_code == 429


async def test_writes_with_a_session_need_the_csrf_token(client: AsyncTestClient[Any], make_staff: Any) -> None:
    await make_staff(StaffRole.ADMIN)
    await log_in(client, "admin@example.org")
    token = client.headers.pop("X-CSRF-Token")
    invite = {"email": "new@example.org", "role": "viewer"}
    missing = await client.post("/api/v1/staff", json=invite)
    assert missing.status_code == 403
    assert "CSRF" in missing.json()["detail"]
    wrong = await client.post("/api/v1/staff", json=invite, headers={"X-CSRF-Token": token[:-2] + "zz"})
    assert wrong.status_code == 403
    listed = await client.get("/api/v1/staff")  # reads need no token
    assert listed.json()["total"] == 1
    right = await client.post("/api/v1/staff", json=invite, headers={"X-CSRF-Token": token})
    assert right.status_code == 201


async def test_logout_ends_the_session(client: AsyncTestClient[Any], make_staff: Any) -> None:
    await make_staff(StaffRole.VIEWER)
    await log_in(client, "viewer@example.org")
    cookie = client.cookies.get("crm_session")
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    # Even a copy of the old cookie no longer works.
    client.cookies.set("crm_session", cookie)
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_login_is_in_the_audit_log(client: AsyncTestClient[Any], make_staff: Any) -> None:
    account = await make_staff(StaffRole.ADMIN)
    await log_in(client, account.email)
    entries = (await client.get("/api/v1/audit-log", params={"action": "login"})).json()["items"]
    assert [(e["actor_id"], e["entity_id"]) for e in entries] == [(account.id, account.id)]
