"""One way to reach the services outside a request (worker jobs, cron, CLI): open a session,
hand out services that share it, commit when the block succeeds. Requests get the same services
through dependency injection; no rule is written twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from advanced_alchemy.extensions.litestar import (
    AlembicAsyncConfig,
    AsyncSessionConfig,
    EngineConfig,
    SQLAlchemyAsyncConfig,
)
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import Pool

from crm.config import Settings
from crm.db.base import metadata

S = TypeVar("S")

# advanced-alchemy counts a page's total with a window function over the page's own rows: past the
# last page there is no row to carry it and the total reads 0. Two queries (rows, then count) give
# the true total on every page; this sets the default for every service of the project.
SQLAlchemyAsyncRepositoryService.count_with_window_function = False


@event.listens_for(Pool, "checkout")
def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has closed (a restart, an idle timeout) is replaced before
    use. This replaces SQLAlchemy's `pool_pre_ping`, which costs three round trips to PostgreSQL
    on every checkout with asyncpg (BEGIN, a ping, ROLLBACK): as much as a whole list request's own
    queries. asyncpg learns of a closed socket from the event loop, without asking the server."""
    connection = getattr(dbapi_connection, "_connection", None)
    if connection is not None and connection.is_closed():
        raise DisconnectionError("the server closed this connection")


# A worker's job may hold a connection while its lease keeper takes another: the worker keeps
# SQLAlchemy's usual overflow rather than wait on its own pool.
WORKER_MAX_OVERFLOW = 10


def alchemy_config(settings: Settings, *, max_overflow: int | None = None) -> SQLAlchemyAsyncConfig:
    """`max_overflow`: connections beyond the pool, opened for a burst and closed after it; the
    API's default (CRM_DATABASE_MAX_OVERFLOW, 0) keeps the same connections open all along."""
    import crm.db.audit_listener
    import crm.db.models  # noqa: F401

    return SQLAlchemyAsyncConfig(
        connection_string=settings.database_url,
        metadata=metadata,
        engine_config=EngineConfig(
            pool_size=settings.database.pool_size,
            max_overflow=settings.database.max_overflow if max_overflow is None else max_overflow,
            pool_pre_ping=False,
            echo=settings.database.echo,
        ),
        session_config=AsyncSessionConfig(expire_on_commit=False),
        # Commit when the handler answers 2xx/3xx, roll back otherwise: one transaction per request.
        before_send_handler="autocommit",
        alembic_config=AlembicAsyncConfig(script_location="alembic"),
        create_all=False,
    )


async def reading_only(session: AsyncSession) -> None:
    """For a request that only reads (a list page): its statements run without BEGIN and COMMIT,
    two round trips fewer out of five. Each statement then sees the data as they are when it runs:
    a caller must bear a record that changes between its two queries. Does nothing once the
    session has begun (a read inside a write keeps its transaction)."""
    if not session.in_transaction():
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@asynccontextmanager
async def open_session(config: SQLAlchemyAsyncConfig) -> AsyncIterator[AsyncSession]:
    async with config.get_session() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


@asynccontextmanager
async def provide_services(config: SQLAlchemyAsyncConfig, *service_types: type[Any]) -> AsyncIterator[Any]:
    """`async with provide_services(cfg, StaffService) as (staff,):` — one session, one commit."""
    async with open_session(config) as session:
        yield tuple(service_type(session=session) for service_type in service_types)
