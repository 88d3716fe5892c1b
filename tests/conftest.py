"""Fixtures on real parts: a test database built by the migrations, a Redis DB index of its own,
an SMTP server in the process, the app, a logged-in client per role, and an arq worker in burst
mode. Every test starts from empty tables and an empty Redis DB."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from arq.connections import RedisSettings as ArqRedisSettings
from arq.worker import Worker
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from crm.config import (
    DatabaseSettings,
    RedisSettings,
    SecuritySettings,
    Settings,
    SmtpSettings,
    to_asyncpg_url,
)
from crm.db.models.staff import StaffRole
from crm.lib.redis import QUEUE_NAME, connect_redis
from tests import services
from tests.smtp import SmtpSink, start_sink

# CRM_TEST_DB_NAME lets parallel runs on one server keep apart.
TEST_DATABASE = os.environ.get("CRM_TEST_DB_NAME", "crm_test")
PASSWORD = "correct horse battery"

# The tests own their configuration: nothing from a developer's shell or .env leaks in.
for _name in list(os.environ):
    if _name.startswith("CRM_") and not _name.startswith("CRM_TEST_"):
        del os.environ[_name]
# The demo's Atlaas seeds a tenth of its actions here: the suite seeds the demo several times and
# 30,000 actions cost some 8 s each; the facets, search and screens are the same with 3,000.
os.environ["CRM_DEMO_ATLAAS_ACTIONS"] = "3000"


@pytest.fixture(scope="session")
def database_server() -> str:
    return services.database_server_url()


@pytest.fixture(scope="session")
def database_url(database_server: str) -> str:
    """A fresh test database, built by the Alembic migrations (so they are tested too)."""
    from crm.cli import _alembic_config

    url = services.database_url(database_server, TEST_DATABASE)
    asyncio.run(recreate_database(database_server, TEST_DATABASE))
    from alembic import command

    command.upgrade(_alembic_config(url), "head")
    return url


async def recreate_database(server: str, name: str) -> None:
    admin = create_async_engine(to_asyncpg_url(services.database_url(server, "postgres")), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    return services.redis_url()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpSink]:
    sink, controller = start_sink()
    yield sink
    controller.stop()


@pytest.fixture
def smtp(smtp_server: SmtpSink) -> SmtpSink:
    smtp_server.clear()
    return smtp_server


@pytest.fixture(scope="session")
def base_settings(database_url: str, redis_url: str, smtp_server: SmtpSink) -> Settings:
    return Settings(
        environment="test",
        public_url="http://testserver.local",
        database=DatabaseSettings(url=database_url, pool_size=5),
        redis=RedisSettings(url=redis_url),
        smtp=SmtpSettings(url=f"smtp://127.0.0.1:{smtp_server.port}", timeout=10),
        security=SecuritySettings(secret_key="test-secret-key-" + "x" * 32, secure_cookies=False),
    )


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    return base_settings.model_copy(deep=True)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(to_asyncpg_url(database_url))
    yield engine
    await engine.dispose()


@pytest.fixture(autouse=True)
async def clean_state(engine: AsyncEngine, redis_url: str) -> None:
    """Empty tables and Redis DB before each test."""
    async with engine.begin() as conn:
        tables = (
            (
                await conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                        " AND tablename NOT LIKE 'ref\\_%'"
                    )
                )
            )
            .scalars()
            .all()
        )
        if tables:
            await conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
    redis = connect_redis(redis_url)
    await redis.flushdb()
    await redis.aclose()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    from crm.app import create_app

    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as client:
        yield client


@dataclass
class StaffAccount:
    id: str
    email: str
    password: str
    role: StaffRole


@pytest.fixture
def make_staff(settings: Settings) -> Callable[..., Awaitable[StaffAccount]]:
    from crm.db.models.staff import Staff
    from crm.lib.security import hash_password
    from crm.lib.services import alchemy_config, open_session

    async def make(
        role: StaffRole = StaffRole.ADMIN,
        email: str | None = None,
        password: str = PASSWORD,
        active: bool = True,
    ) -> StaffAccount:
        email = email or f"{role.value}@example.org"
        config = alchemy_config(settings)
        async with open_session(config) as session:
            staff = Staff(
                email=email,
                name=f"{role.value.title()} Test",
                role=role,
                password_hash=hash_password(password),
                is_active=active,
            )
            session.add(staff)
            await session.flush()
            staff_id = str(staff.id)
        await config.get_engine().dispose()
        return StaffAccount(staff_id, email, password, role)

    return make


async def log_in(client: AsyncTestClient[Any], email: str, password: str = PASSWORD) -> dict[str, Any]:
    """Logs the client in and makes it send the CSRF token on every request, as the admin app does."""
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    body = response.json()
    client.headers["X-CSRF-Token"] = body["csrf_token"]
    return body


@pytest.fixture
async def admin_client(client: AsyncTestClient[Litestar], make_staff: Any) -> AsyncTestClient[Litestar]:
    account = await make_staff(StaffRole.ADMIN)
    await log_in(client, account.email)
    return client


@pytest.fixture
def run_worker(settings: Settings, redis_url: str) -> Callable[[], Awaitable[Worker]]:
    """Runs a real arq worker in burst mode: it does every queued job, then returns."""
    from jobs.worker import WorkerSettings

    async def run() -> Worker:
        worker = Worker(
            functions=WorkerSettings.functions,
            redis_settings=ArqRedisSettings.from_dsn(redis_url),
            queue_name=QUEUE_NAME,
            on_startup=WorkerSettings.on_startup,
            on_shutdown=WorkerSettings.on_shutdown,
            ctx={"settings": settings},
            burst=True,
            poll_delay=0.05,
            max_tries=WorkerSettings.max_tries,
            handle_signals=False,
        )
        try:
            await worker.main()
        finally:
            await worker.close()
        return worker

    return run
