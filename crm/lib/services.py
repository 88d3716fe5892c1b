"""The project's `Service` base, and one way to reach the services outside a request (worker jobs,
cron, CLI): open a session, hand out services that share it, commit when the block succeeds.
Requests get the same services through dependency injection; no rule is written twice.

Who commits: in a request, `commit_request` (advanced-alchemy's autocommit before-send handler),
once, when the handler answered 2xx; outside one, `open_session`. Services flush, never commit; what
must wait for the commit (queuing a job that reads what the request wrote, ending sessions in
Redis) is handed to `after_commit`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, get_args, get_origin

from advanced_alchemy.base import ModelProtocol
from advanced_alchemy.config import AlembicAsyncConfig, AsyncSessionConfig, EngineConfig, SQLAlchemyAsyncConfig
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import Executable, Row, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import Pool

from crm.config import Settings
from crm.db.base import metadata
from crm.lib.problems import invalid

if TYPE_CHECKING:
    from litestar.types import Message, Scope

S = TypeVar("S")
M = TypeVar("M", bound=ModelProtocol)

# advanced-alchemy counts a page's total with a window function over the page's own rows: past the
# last page there is no row to carry it and the total reads 0. Two queries (rows, then count) give
# the true total on every page; this sets the default for every service of the project.
SQLAlchemyAsyncRepositoryService.count_with_window_function = False


class Service(SQLAlchemyAsyncRepositoryService[M], Generic[M]):
    """What every service of the project had by hand: `class TagService(Service[Tag])` gets its
    repository from the model it names, `self.session`, and `apply` for a partial update.

    Names follow advanced-alchemy's: `list`, `get`, `create`, `update`, `delete` (and their
    `get_many_and_count`, `get_one_or_none`...), domain verbs for the rest (`renew`, `invoice`)."""

    repository_type: ClassVar[type[SQLAlchemyAsyncRepository[Any]]]  # type: ignore[misc]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "repository_type" in cls.__dict__:
            return
        for base in getattr(cls, "__orig_bases__", ()):
            if get_origin(base) is Service and (args := get_args(base)) and isinstance(args[0], type):
                model = args[0]
                cls.repository_type = type(
                    f"{model.__name__}Repository", (SQLAlchemyAsyncRepository,), {"model_type": model}
                )

    @property
    def session(self) -> AsyncSession:
        return self.repository.session

    @staticmethod
    def apply(instance: M, values: Mapping[str, Any], *, required: Iterable[str] = ()) -> M:
        """Sets the fields sent (a partial update); a None sent for a `required` field is refused
        by name. The caller then `update`s the instance."""
        required = frozenset(required)
        for key, value in values.items():
            if value is None and key in required:
                raise invalid(key, "cannot be empty")
            setattr(instance, key, value)
        return instance


@event.listens_for(Pool, "checkout")
def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has closed (a restart, an idle timeout) is replaced before
    use. This replaces SQLAlchemy's `pool_pre_ping`, which costs three round trips to PostgreSQL
    on every checkout with asyncpg (BEGIN, a ping, ROLLBACK): as much as a whole list request's own
    queries. asyncpg learns of a closed socket from the event loop, without asking the server."""
    connection = getattr(dbapi_connection, "_connection", None)
    if connection is not None and connection.is_closed():
        raise DisconnectionError("the server closed this connection")


_AFTER_COMMIT = "crm.after_commit"


def after_commit(session: AsyncSession, action: Callable[[], Awaitable[Any]]) -> None:
    """Runs `action` once the session's work is committed (by `commit_request` in a request, by
    `open_session` outside one), and only then: a job queued with an id finds its row, and nothing
    is queued for work rolled back."""
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


def commit_request(session_scope_key: str) -> Callable[[Message, Scope], Awaitable[None]]:
    """The one place a request's work is committed (2xx) or rolled back (anything else), then the
    actions waiting for the commit run, before the client gets its answer. advanced-alchemy gives
    each config its own scope key, hence a handler per config."""
    # Imported here: the worker and the CLI, which never answer a request, don't load the
    # Litestar side of advanced-alchemy.
    from advanced_alchemy.extensions.litestar._utils import get_aa_scope_state
    from advanced_alchemy.extensions.litestar.plugins.init.config.asyncio import autocommit_handler_maker

    autocommit = autocommit_handler_maker(session_scope_key=session_scope_key)

    async def handler(message: Message, scope: Scope) -> None:
        session = get_aa_scope_state(scope, session_scope_key)
        actions: list[Callable[[], Awaitable[Any]]] = []
        committed = False
        if isinstance(session, AsyncSession) and message["type"] == "http.response.start":
            actions = session.info.pop(_AFTER_COMMIT, [])
            committed = 200 <= message["status"] < 300  # the statuses advanced-alchemy's handler commits
        await autocommit(message, scope)
        if committed:
            for action in actions:
                await action()

    return handler


# A worker's job may hold a connection while its lease keeper takes another: the worker keeps
# SQLAlchemy's usual overflow rather than wait on its own pool.
WORKER_MAX_OVERFLOW = 10


def database_options(settings: Settings, *, max_overflow: int | None = None) -> dict[str, Any]:
    """The database settings every process shares (the web app's config adds its request hooks).
    `max_overflow`: connections beyond the pool, opened for a burst and closed after it; the API's
    default (CRM_DATABASE_MAX_OVERFLOW, 0) keeps the same connections open all along."""
    import crm.db.audit_listener
    import crm.db.models  # noqa: F401

    return {
        "connection_string": settings.database_url,
        "metadata": metadata,
        "engine_config": EngineConfig(
            pool_size=settings.database.pool_size,
            max_overflow=settings.database.max_overflow if max_overflow is None else max_overflow,
            pool_pre_ping=False,
            echo=settings.database.echo,
        ),
        "alembic_config": AlembicAsyncConfig(script_location="alembic"),
        "create_all": False,
    }


def alchemy_config(settings: Settings, *, max_overflow: int | None = None) -> SQLAlchemyAsyncConfig:
    """Outside requests (worker, CLI, tests): advanced-alchemy's plain config. Its Litestar flavour
    (see `crm.app`) would load the Litestar plugin, its CLI and Alembic commands: 14 MB of a worker."""
    return SQLAlchemyAsyncConfig(
        **database_options(settings, max_overflow=max_overflow),
        session_config=AsyncSessionConfig(expire_on_commit=False),
    )


async def reading_only(session: AsyncSession) -> None:
    """For a request that only reads (a list page): its statements run without BEGIN and COMMIT,
    two round trips fewer out of five. Each statement then sees the data as they are when it runs:
    a caller must bear a record that changes between its two queries. Does nothing once the
    session has begun (a read inside a write keeps its transaction)."""
    if not session.in_transaction():
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


async def read_rows(session: AsyncSession, statement: Executable, params: Mapping[str, Any]) -> Sequence[Row[Any]]:
    """The rows of a statement that selects columns only (no ORM objects), run by the session's
    connection itself: the session's ORM layer (autoflush, ORM results) cost a list page as much as
    building its dicts, for rows that need none of it. Flush first when the session holds writes."""
    connection = await session.connection()
    return (await connection.execute(statement, params)).all()


@asynccontextmanager
async def open_session(config: SQLAlchemyAsyncConfig) -> AsyncIterator[AsyncSession]:
    async with config.get_session() as session:
        try:
            yield session
            actions = session.info.pop(_AFTER_COMMIT, [])
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        for action in actions:
            await action()


@asynccontextmanager
async def provide_services(config: SQLAlchemyAsyncConfig, *service_types: type[Any]) -> AsyncIterator[Any]:
    """`async with provide_services(cfg, StaffService) as (staff,):` — one session, one commit."""
    async with open_session(config) as session:
        yield tuple(service_type(session=session) for service_type in service_types)
