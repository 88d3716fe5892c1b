"""Connections the server closed (a PostgreSQL restart, an administrator's kill) are replaced
before use: the next request is served, not answered with a 500."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def test_a_request_after_the_server_closed_the_pooled_connections_is_served(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine
) -> None:
    assert (await admin_client.get("/api/v1/organisations")).status_code == 200
    async with engine.connect() as conn:
        killed = await conn.scalar(
            text(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()) AS gone"
            )
        )
    assert killed >= 1
    for _ in range(3):
        response = await admin_client.get("/api/v1/organisations")
        assert response.status_code == 200, response.text
