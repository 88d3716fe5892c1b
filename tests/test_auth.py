from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from crm.db.models.staff import StaffRole
from crm.lib.redis import connect_redis
from tests.conftest import PASSWORD, log_in
from tests.peers import connect_from

LOGIN = "/api/v1/auth/login"


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


def wrong(email: str = "admin@example.org") -> dict[str, str]:
    return {"email": email, "password": "wrong-password"}


def right(email: str = "admin@example.org") -> dict[str, str]:
    return {"email": email, "password": PASSWORD}


async def time_passes(redis_url: str) -> None:
    """The current waits run out (failures stay counted): what a client waiting Retry-After sees."""
    redis = connect_redis(redis_url)
    keys = await redis.keys("crm:login:*:wait")
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def test_failed_logins_from_one_address_slow_down_with_a_429_that_says_when(
    client: AsyncTestClient[Any], make_staff: Any, settings: Any, redis_url: str
) -> None:
    await make_staff(StaffRole.ADMIN)
    sec = settings.security
    connect_from(client, "203.0.113.7")
    statuses = [(await client.post(LOGIN, json=wrong())).status_code for _ in range(sec.login_failures_before_delay)]
    assert statuses == [401] * (sec.login_failures_before_delay - 1) + [429]
    # Now even the right password waits from this address: the guess is protected, not just the account.
    blocked = await client.post(LOGIN, json=right())
    assert blocked.status_code == 429
    retry_after = int(blocked.headers["retry-after"])
    assert 0 < retry_after <= sec.login_first_delay_seconds
    body = blocked.json()
    assert body["retry_after"] == retry_after
    assert f"{retry_after} seconds" in body["detail"]
    # Each further failure doubles the wait: slowed down, never locked.
    waits = []
    for _ in range(3):
        await time_passes(redis_url)
        again = await client.post(LOGIN, json=wrong())
        assert again.status_code == 429
        waits.append(int(again.headers["retry-after"]))
    first = sec.login_first_delay_seconds
    assert waits == [min(first * 2**i, sec.login_max_delay_seconds) for i in (1, 2, 3)]
    await time_passes(redis_url)
    assert (await client.post(LOGIN, json=right())).status_code == 201


def test_the_delay_doubles_up_to_a_ceiling() -> None:
    from crm.lib.ratelimit import Backoff

    backoff = Backoff("k", free=5, memory=3600, first_delay=15, max_delay=900)
    assert [backoff.delay(n) for n in range(1, 13)] == [0, 0, 0, 0, 15, 30, 60, 120, 240, 480, 900, 900]
    assert backoff.delay(10**6) == 900


async def test_a_strangers_failures_never_refuse_the_owner_at_a_known_address(settings: Any, make_staff: Any) -> None:
    """The outside review's finding: five wrong passwords from anywhere locked the admin out."""
    from crm.app import create_app

    settings.security.login_max_failures_per_account = 12
    await make_staff(StaffRole.ADMIN)
    async with (  # each client is served by its own app, like separate API processes
        AsyncTestClient(app=create_app(settings)) as office,
        AsyncTestClient(app=create_app(settings)) as laptop,
        AsyncTestClient(app=create_app(settings)) as stranger,
        AsyncTestClient(app=create_app(settings)) as newcomer,
    ):
        connect_from(office, "198.51.100.10")
        connect_from(laptop, "192.0.2.44")
        connect_from(newcomer, "203.0.113.200")
        assert (await office.post(LOGIN, json=right())).status_code == 201
        assert (await laptop.post(LOGIN, json=right())).status_code == 201
        laptop.cookies.delete("crm_session")
        # A botnet: many addresses, a few guesses each, until the account's global cap is reached.
        for i in range(12):
            connect_from(stranger, f"203.0.113.{i}")
            await stranger.post(LOGIN, json=wrong())
        # A never-seen address is now refused, even with the right password...
        refused = await newcomer.post(LOGIN, json=right())
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        # ...but the owner gets in from the office address where they logged in before,
        office.cookies.clear()
        assert (await office.post(LOGIN, json=right())).status_code == 201
        # and from a new address with the browser that logged in before (its known-device cookie).
        connect_from(laptop, "203.0.113.250")
        assert (await laptop.post(LOGIN, json=right())).status_code == 201


async def test_the_known_device_cookie_is_protected_and_bound_to_its_account(
    client: AsyncTestClient[Any], make_staff: Any, settings: Any
) -> None:
    await make_staff(StaffRole.ADMIN)
    await make_staff(StaffRole.EDITOR)
    settings.security.login_max_failures_per_account = 3
    response = await client.post(LOGIN, json=right("editor@example.org"))
    cookies = [c for c in response.headers.get_list("set-cookie") if c.startswith("crm_known_device=")]
    assert len(cookies) == 1
    assert "HttpOnly" in cookies[0]
    assert "Path=/api/v1/auth" in cookies[0]
    connect_from(client, "192.0.2.1")
    for _ in range(3):
        await client.post(LOGIN, json=wrong())
    # The editor's device cookie does not make this browser known for the admin account.
    connect_from(client, "192.0.2.2")
    assert (await client.post(LOGIN, json=right())).status_code == 429
    # A forged cookie neither.
    client.cookies.clear()
    client.cookies.set("crm_known_device", "forged.value", path="/api/v1/auth")
    assert (await client.post(LOGIN, json=right())).status_code == 429


async def test_failed_logins_are_limited_per_address_across_accounts(
    client: AsyncTestClient[Any], make_staff: Any, settings: Any
) -> None:
    await make_staff(StaffRole.ADMIN)
    settings.security.login_failures_before_delay_per_address = limit = 6  # few argon2 checks: a fast test
    connect_from(client, "203.0.113.7")
    last = None
    for i in range(limit):
        last = await client.post(LOGIN, json=wrong(f"guess{i}@example.org"))
    assert last is not None
    assert last.status_code == 429
    # An account that never logged in from this address waits as well.
    assert (await client.post(LOGIN, json=right())).status_code == 429
    # Another address is not slowed down by this one.
    connect_from(client, "203.0.113.8")
    assert (await client.post(LOGIN, json=right())).status_code == 201


async def test_rate_limit_is_shared_by_api_processes(settings: Any, make_staff: Any) -> None:
    """Two app instances stand for two API processes: failures on one count on the other."""
    from crm.app import create_app

    await make_staff(StaffRole.ADMIN)
    limit = settings.security.login_failures_before_delay
    async with (
        AsyncTestClient(app=create_app(settings)) as one,
        AsyncTestClient(app=create_app(settings)) as two,
    ):
        for i in range(limit - 1):
            await (one if i % 2 else two).post(LOGIN, json=wrong())
        r = await one.post(LOGIN, json=wrong())
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


async def test_parallel_guesses_from_one_place_check_one_password_at_a_time(settings: Any, redis_url: str) -> None:
    """Without turns, a burst of simultaneous attempts would all pass the check before the first
    failure is counted, and guess far more than the delays allow."""
    import asyncio

    from crm.domain.auth.throttle import LoginThrottle

    redis = connect_redis(redis_url)
    requests = [LoginThrottle(redis, settings.security, "secret") for _ in range(10)]  # one per request
    attempt = requests[0].attempt("admin@example.org", "203.0.113.7", None)
    waits = await asyncio.gather(*(r.begin(attempt) for r in requests))
    assert sorted(waits) == [0] + [1] * 9  # one checks its password, the others come back in a second
    first = requests[waits.index(0)]
    await first.failed(attempt)
    await first.end(attempt)
    assert await requests[0].begin(attempt) == 0
    await requests[0].end(attempt)
    await redis.aclose()
