"""The models and the migrations never drift apart, and the migrations go down and up again."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

import crm.db.models  # noqa: F401  (every table on the metadata)
from crm.cli import _alembic_config
from crm.config import to_asyncpg_url
from crm.db.base import metadata
from tests import services
from tests.conftest import TEST_DATABASE, recreate_database


def _inspect(url: str, look: Any) -> Any:
    """Runs `look(sync_connection)` on the database at `url` (alembic and the inspector are sync)."""

    async def run() -> Any:
        engine = create_async_engine(to_asyncpg_url(url))
        async with engine.connect() as conn:
            result = await conn.run_sync(look)
        await engine.dispose()
        return result

    return asyncio.run(run())


def test_models_match_the_migrations(database_url: str) -> None:
    options = {"compare_type": True, "compare_server_default": True}
    differences = _inspect(
        database_url, lambda sync: compare_metadata(MigrationContext.configure(sync, opts=options), metadata)
    )
    assert differences == []


def test_downgrade_to_nothing_then_upgrade_again(database_server: str) -> None:
    name = f"{TEST_DATABASE}_migrations"
    asyncio.run(recreate_database(database_server, name))
    url = services.database_url(database_server, name)
    config = _alembic_config(url)

    def tables(sync: Any) -> list[str]:
        return sorted(inspect(sync).get_table_names())

    command.upgrade(config, "head")
    head_tables = _inspect(url, tables)
    command.downgrade(config, "base")
    assert _inspect(url, tables) == ["alembic_version"]
    command.upgrade(config, "head")
    assert _inspect(url, tables) == head_tables
    assert "staff" in head_tables
