"""Operations: liveness, readiness (PostgreSQL and Redis), and the SMTP check e-mail."""

from __future__ import annotations

import asyncio
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
        description="200 when PostgreSQL and Redis answer; 503 naming what is down otherwise.",
        responses=problem_responses(503),
    )
    async def ready(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        engine: AsyncEngine = request.app.state.health_engine
        db_error, redis_error = await asyncio.gather(_database_ok(engine), _redis_ok(request.app.state.redis))
        checks = {"database": db_error or "ok", "redis": redis_error or "ok"}
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
