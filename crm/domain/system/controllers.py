"""Operations: liveness, readiness (PostgreSQL and Redis), and the SMTP check e-mail."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from arq.connections import ArqRedis
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm.db.audit_listener import record
from crm.domain.auth.guards import open_to_anyone, requires_admin
from crm.lib.problems import PROBLEM_MEDIA_TYPE, problem_responses
from crm.lib.schemas import Email, Schema
from crm.lib.sessions import StaffSession

CHECK_TIMEOUT = 3.0


class TestEmailRequest(Schema):
    to: Email


class TestEmailQueued(Schema):
    job_id: str
    to: str


async def _database_ok(engine: AsyncEngine) -> str | None:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return type(exc).__name__
    return None


async def _redis_ok(redis: ArqRedis) -> str | None:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await redis.ping()
    except Exception as exc:
        return type(exc).__name__
    return None


# Seconds between two probes, and the age past which the last answer is not trusted (the
# refreshing task is stuck or gone): then the request asks PostgreSQL and Redis itself.
READY_REFRESH = 1.0
READY_STALE = CHECK_TIMEOUT + 2 * READY_REFRESH


class Readiness:
    """What PostgreSQL and Redis last answered, asked again every second by a task of its own
    (`run`, started with the app). A probe that waited for its own answers queued behind every
    request the process was serving, up to half a second under load, and a load balancer takes a
    slow probe for a dead process; the last answer costs nothing to give. An outage shows within
    a second (a refused connection fails at once; a server that hangs, after CHECK_TIMEOUT)."""

    def __init__(self, engine: AsyncEngine, redis: ArqRedis) -> None:
        self.engine, self.redis = engine, redis
        self._checks: dict[str, str] | None = None
        self._checked_at = 0.0

    async def probe(self) -> dict[str, str]:
        db_error, redis_error = await asyncio.gather(_database_ok(self.engine), _redis_ok(self.redis))
        self._checks = {"database": db_error or "ok", "redis": redis_error or "ok"}
        self._checked_at = time.monotonic()
        return self._checks

    async def run(self) -> None:
        while True:
            await self.probe()
            await asyncio.sleep(READY_REFRESH)

    async def checks(self) -> dict[str, str]:
        if self._checks is None or time.monotonic() - self._checked_at > READY_STALE:
            return await self.probe()
        return self._checks


class HealthController(Controller):
    path = "/health"
    guards = [open_to_anyone]
    tags = ["Operations"]
    include_in_schema = True

    @get(
        "/live",
        operation_id="healthLive",
        summary="Liveness",
        description="Answers 200 while the process serves requests.",
    )
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/ready",
        operation_id="healthReady",
        summary="Readiness",
        description="200 when PostgreSQL and Redis answer; 503 naming what is down otherwise. They are "
        "asked every second: the answer is at most that old.",
        responses=problem_responses(503),
    )
    async def ready(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        readiness: Readiness = request.app.state.readiness
        checks = await readiness.checks()
        down = [name for name, state in checks.items() if state != "ok"]
        if not down:
            return Response({"status": "ok", "checks": checks})
        body = {
            "type": "about:blank",
            "title": "Service unavailable",
            "status": 503,
            "detail": f"Not ready: {', '.join(down)} unavailable",
            "instance": request.url.path,
            "checks": checks,
        }
        return Response(body, status_code=503, media_type=PROBLEM_MEDIA_TYPE)


class SystemController(Controller):
    path = "/api/v1/system"
    tags = ["Operations"]
    guards = [requires_admin]

    @post(
        "/test-email",
        operation_id="sendTestEmail",
        summary="Send a test e-mail",
        status_code=HTTP_202_ACCEPTED,
        description="Queues a test message to the given address through the worker and the configured "
        "SMTP server, so staff can check the mail settings. Answers with the job id.",
    )
    async def send_test_email(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[TestEmailRequest],
        db_session: NamedDependency[AsyncSession],
    ) -> TestEmailQueued:
        session: StaffSession = request.scope["auth"]
        queue: ArqRedis = request.app.state.redis
        job = await queue.enqueue_job("send_test_email", data.to, session.staff_id)
        record(db_session, "send", "test_email", None)
        return TestEmailQueued(job_id=job.job_id if job else "", to=data.to)
