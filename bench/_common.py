"""What the benchmarks share: a database to run on, the demo data in it, and figures to print.

A benchmark uses the database named by CRM_DATABASE_URL when it is set (and leaves it as it
found it, except for the demo data it may seed), else a scratch database it creates on
127.0.0.1:5432 (or CRM_BENCH_SERVER), builds with the migrations, and drops afterwards.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from crm.config import DatabaseSettings, RedisSettings, SecuritySettings, Settings, to_asyncpg_url  # noqa: E402

SERVER = os.environ.get("CRM_BENCH_SERVER", "postgresql://postgres@127.0.0.1:5432")


def plain_url(url: str) -> str:
    """The URL asyncpg itself takes."""
    return to_asyncpg_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)


@asynccontextmanager
async def bench_database(name: str, *, keep: bool = False) -> AsyncIterator[str]:
    """Yields a database URL: CRM_DATABASE_URL, or a scratch database dropped at the end. With
    `keep`, the database is named `crm_bench_<name>`, used again when it is there (brought up to
    the latest migration) and left in place: seeding 100,000 people once is enough."""
    given = os.environ.get("CRM_DATABASE_URL")
    if given:
        yield given
        return
    scratch = f"crm_bench_{name}" if keep else f"crm_bench_{name}_{os.getpid()}"
    admin = await asyncpg.connect(plain_url(f"{SERVER}/postgres"))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", scratch)
        if not (keep and exists):
            await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{scratch}"')
    finally:
        await admin.close()
    url = f"{SERVER}/{scratch}"
    try:
        await asyncio.to_thread(_migrate, url)
        yield url
    finally:
        if not keep:
            admin = await asyncpg.connect(plain_url(f"{SERVER}/postgres"))
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            finally:
                await admin.close()


def _migrate(url: str) -> None:
    from alembic import command

    from crm.cli import _alembic_config

    command.upgrade(_alembic_config(url), "head")


def settings_for(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database=DatabaseSettings(url=database_url, pool_size=5),
        redis=RedisSettings(url=os.environ.get("CRM_REDIS_URL", "redis://127.0.0.1:6379/14")),
        # The in-process client speaks plain HTTP: a Secure cookie would never come back.
        security=SecuritySettings(secure_cookies=False),
        log_level="WARNING",
    )


async def ensure_demo(database_url: str, people: int | None = None) -> str:
    """Seeds the demo data unless it is there (with `people` contacts instead of the demo's
    10,000 when given); says what happened."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from crm.demo import PEOPLE, seed_demo

    engine = create_async_engine(to_asyncpg_url(database_url))
    try:
        async with AsyncSession(engine) as session, session.begin():
            result = await seed_demo(session, people=people or PEOPLE)
        return result.summary()
    finally:
        await engine.dispose()


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def describe(values: Sequence[float]) -> tuple[float, float]:
    """Median and 99th percentile, in milliseconds."""
    return statistics.median(values) * 1000, percentile(values, 99) * 1000
