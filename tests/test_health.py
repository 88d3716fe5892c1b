from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from crm.app import create_app
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
