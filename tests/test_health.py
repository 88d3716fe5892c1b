from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

from litestar.testing import AsyncTestClient

from crm.app import create_app
from crm.domain.system.controllers import READY_STALE
from crm.embedded import free_port


async def test_live_and_ready(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_ready_is_503_naming_redis_when_redis_is_down(settings: Any) -> None:
    settings.redis.url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.get("/health/live")).status_code == 200
        response = await client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["detail"] == "Not ready: redis unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] != "ok"


async def test_ready_is_503_naming_the_database_when_it_is_down(settings: Any) -> None:
    settings.database.url = f"postgresql://postgres@127.0.0.1:{free_port()}/crm"
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["detail"] == "Not ready: database unavailable"


async def test_a_logged_in_request_while_redis_is_down_is_a_clear_503(settings: Any) -> None:
    settings.redis.url = f"redis://127.0.0.1:{free_port()}/0"
    async with AsyncTestClient(app=create_app(settings)) as client:
        client.cookies.set("crm_session", "whatever")
        response = await client.get("/api/v1/auth/me")
    assert response.status_code == 503
    assert "Redis" in response.json()["detail"]


async def test_metrics_in_prometheus_format(client: AsyncTestClient[Any]) -> None:
    await client.get("/api/v1/auth/me")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "crm_requests_total" in response.text
    assert 'path="/api/v1/auth/me"' in response.text


async def test_every_operation_is_named_and_described(client: AsyncTestClient[Any]) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    operations = [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) >= 10
    for path, method, op in operations:
        assert op.get("operationId"), (path, method)
        assert op.get("summary"), (path, method)
        assert op.get("description"), (path, method)
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids))


@contextmanager
def tcp_relay(host: str, port: int) -> Iterator[tuple[int, Callable[[], None]]]:
    """A TCP relay to host:port on a free local port, and a way to cut it (listener and open
    connections): what a Redis that goes away looks like to its clients. It runs in a thread of
    its own: the test client blocks the test's event loop while the app answers."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    pipes: set[asyncio.StreamWriter] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(host, port)
        pipes.update({client_writer, server_writer})
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    async def cut_now() -> None:
        server.close()
        for writer in pipes:
            writer.close()

    server = asyncio.run_coroutine_threadsafe(asyncio.start_server(relay, "127.0.0.1", 0), loop).result()
    try:
        yield server.sockets[0].getsockname()[1], lambda: asyncio.run_coroutine_threadsafe(cut_now(), loop).result()
    finally:
        asyncio.run_coroutine_threadsafe(cut_now(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


async def test_ready_reports_an_outage_that_starts_while_it_runs(settings: Any, redis_url: str) -> None:
    # Readiness answers from a probe made every second: it must still see Redis go away, soon.
    redis = urlsplit(redis_url)
    with tcp_relay(redis.hostname or "127.0.0.1", redis.port or 6379) as (port, cut):
        settings.redis.url = f"redis://127.0.0.1:{port}{redis.path}"
        async with AsyncTestClient(app=create_app(settings)) as client:
            first = await client.get("/health/ready")
            assert first.status_code == 200, first.text
            cut()
            deadline = time.monotonic() + READY_STALE
            while True:
                response = await client.get("/health/ready")
                if response.status_code != 200 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["redis"] != "ok"
