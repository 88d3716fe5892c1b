"""One place commits a request's work (`commit_request`), and what waits for the commit runs only
once the work is committed: a tag created by a handler that answers 409 is not kept, and the job
it would have queued is not queued either."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from litestar import Litestar, post
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm.app import request_alchemy_config
from crm.config import Settings
from crm.db.models.tag import Tag
from crm.lib.problems import ProblemError, exception_handlers
from crm.lib.services import after_commit


async def test_the_work_and_what_waits_for_it_happen_only_on_success(settings: Settings, engine: AsyncEngine) -> None:
    ran: list[str] = []

    async def note(name: str) -> None:
        ran.append(name)

    @post("/tags/{name:str}", status_code=201)
    async def create(name: str, db_session: AsyncSession, refuse: bool = False) -> dict[str, Any]:
        db_session.add(Tag(name=name))
        await db_session.flush()
        after_commit(db_session, lambda: note(name))
        if refuse:
            raise ProblemError(409, "refused after the write")
        return {"ran_before_commit": list(ran)}

    # Not the first config of the process: advanced-alchemy gives each its own session key.
    request_alchemy_config(settings)
    app = Litestar(
        route_handlers=[create],
        plugins=[SQLAlchemyPlugin(config=request_alchemy_config(settings))],
        exception_handlers=exception_handlers,
    )
    async with AsyncTestClient(app=app) as client:
        kept = await client.post("/tags/kept")
        assert kept.status_code == 201, kept.text
        assert kept.json() == {"ran_before_commit": []}
        refused = await client.post("/tags/refused", params={"refuse": "true"})
        assert refused.status_code == 409, refused.text

    assert ran == ["kept"]
    async with AsyncSession(engine) as session:
        assert list(await session.scalars(select(Tag.name).order_by(Tag.name))) == ["kept"]
        assert await session.scalar(select(func.count()).select_from(Tag)) == 1
