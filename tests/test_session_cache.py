"""Each API process keeps the staff sessions it read (crm/lib/sessions.py, `SessionCache`), and a
session ended in one process is refused by every other one as soon as the ending request answers:
logout, a change of role, a deactivation. Two apps stand for two API processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from crm.app import create_app
from crm.db.models.staff import StaffRole
from crm.lib.redis import connect_redis
from tests.conftest import log_in


async def subscribed(app: Litestar) -> None:
    """Until the process listens for ended sessions (it uses no cache before)."""
    deadline = time.monotonic() + 30
    while not app.state.sessions.subscribed:
        assert time.monotonic() < deadline, "the session cache never subscribed"
        await asyncio.sleep(0.01)


@pytest.fixture
async def other_process(settings: Any) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(settings)) as client:
        await subscribed(client.app)
        yield client


async def cached_in(client: AsyncTestClient[Litestar], path: str = "/api/v1/auth/me") -> Any:
    """Reads twice, so that the second answer comes from the cache; says what it answered."""
    first = await client.get(path)
    assert first.status_code == 200, first.text
    assert client.app.state.sessions._entries, "the session was not cached"
    return (await client.get(path)).json()


async def test_logout_in_one_process_ends_the_session_in_the_others(
    client: AsyncTestClient[Litestar], other_process: AsyncTestClient[Litestar], make_staff: Any
) -> None:
    await subscribed(client.app)
    viewer = await make_staff(StaffRole.VIEWER)
    await log_in(client, viewer.email)
    other_process.cookies.set("crm_session", client.cookies["crm_session"])
    await cached_in(other_process)
    await cached_in(client)
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    assert (await other_process.get("/api/v1/auth/me")).status_code == 401


async def test_a_new_role_applies_in_every_process_at_once(
    admin_client: AsyncTestClient[Litestar], other_process: AsyncTestClient[Litestar], make_staff: Any
) -> None:
    await subscribed(admin_client.app)
    editor = await make_staff(StaffRole.EDITOR, email="editor@example.org")
    await log_in(other_process, editor.email)
    assert (await cached_in(other_process))["role"] == "editor"
    changed = await admin_client.patch(f"/api/v1/staff/{editor.id}", json={"role": "viewer"})
    assert changed.status_code == 200
    # The editor's write is refused at once: the cached session went with the role change.
    response = await other_process.post("/api/v1/tags", json={"name": "Numérique"})
    assert response.status_code == 401


async def test_a_deactivation_ends_the_cached_session(
    admin_client: AsyncTestClient[Litestar], other_process: AsyncTestClient[Litestar], make_staff: Any
) -> None:
    await subscribed(admin_client.app)
    viewer = await make_staff(StaffRole.VIEWER)
    await log_in(other_process, viewer.email)
    await cached_in(other_process)
    response = await admin_client.patch(f"/api/v1/staff/{viewer.id}", json={"is_active": False})
    assert response.status_code == 200
    assert (await other_process.get("/api/v1/auth/me")).status_code == 401


async def test_without_the_subscription_every_check_reads_redis(
    other_process: AsyncTestClient[Litestar], make_staff: Any, redis_url: str
) -> None:
    """A process that lost its subscription could miss an announcement: it must not trust what
    it cached, so a session deleted behind its back (no announcement at all) is refused."""
    viewer = await make_staff(StaffRole.VIEWER)
    await log_in(other_process, viewer.email)
    await cached_in(other_process)
    redis = connect_redis(redis_url)
    try:
        # Only this test's subscribers (its Redis DB): other test runs share the server.
        db = redis.connection_pool.connection_kwargs.get("db", 0)
        for client in await redis.client_list(_type="pubsub"):
            if int(client["db"]) == db:
                await redis.client_kill_filter(_id=client["id"])
        deadline = time.monotonic() + 30
        while other_process.app.state.sessions.subscribed:
            assert time.monotonic() < deadline, "the lost subscription went unnoticed"
            await asyncio.sleep(0.01)
        # Nothing cached is used now; the session ends without announcing it.
        for key in await redis.keys("crm:session:*"):
            await redis.delete(key)
        assert (await other_process.get("/api/v1/auth/me")).status_code == 401
        # It subscribes again by itself.
        await subscribed(other_process.app)
    finally:
        await redis.aclose()


async def test_the_listener_stops_when_the_process_stops(redis_url: str) -> None:
    """A server waits for the app's shutdown: a listener that swallowed its cancellation (redis-py
    may turn it into a timeout) kept an API process from ever stopping."""
    from crm.lib.sessions import SessionCache

    redis = connect_redis(redis_url)
    try:
        for _ in range(5):
            cache = SessionCache(redis)
            listener = asyncio.create_task(cache.listen())
            deadline = time.monotonic() + 30
            while not cache.subscribed:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # inside its wait for a message
            listener.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(listener, 10)
    finally:
        await redis.aclose()
