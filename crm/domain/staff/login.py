"""Staff login, logout, who am I, and accepting an invitation.

It lives with the staff accounts it opens sessions for: the auth folder (guards, session
middleware, throttle) is below every controller and imports no domain folder. Logging in and
accepting an invitation are open to anyone; the rest needs a session, declared once per class."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT
from redis.asyncio import Redis

from crm.config import Settings
from crm.db.audit_listener import record
from crm.domain.auth.guards import open_to_anyone, requires_viewer
from crm.domain.auth.schemas import AcceptInvitation, LoginRequest, Me
from crm.domain.auth.throttle import LoginThrottle
from crm.domain.providers import provide_staff_service
from crm.domain.staff.services import StaffService
from crm.lib import sessions
from crm.lib.actor import Actor, current_actor
from crm.lib.client_address import request_address
from crm.lib.problems import ProblemError, problem_responses
from crm.lib.sessions import StaffSession


def _throttle(request: Request[Any, Any, Any]) -> LoginThrottle:
    settings: Settings = request.app.state.settings
    return LoginThrottle(request.app.state.redis, settings.security, settings.security.secret_key.get_secret_value())


def _device_cookie(settings: Settings, value: str) -> Cookie:
    # Only the login route reads it; it says "this browser logged in to this account before".
    return Cookie(
        key=settings.security.known_device_cookie,
        value=value,
        max_age=settings.security.login_known_days * 86400,
        path="/api/v1/auth",
        httponly=True,
        samesite="strict",
        secure=settings.security.secure_cookies,
    )


def _session_cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=settings.security.session_cookie,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.security.secure_cookies,
    )


def _too_many(wait: int) -> ProblemError:
    return ProblemError(
        429,
        f"Too many failed logins; try again in {wait} seconds",
        headers={"Retry-After": str(wait)},
        retry_after=wait,
        code="too_many_logins",
    )


class LoginController(Controller):
    path = "/api/v1/auth"
    tags = ["Staff authentication"]
    guards = [open_to_anyone]
    dependencies = {"staff_service": provide_staff_service}

    @post(
        "/login",
        operation_id="login",
        summary="Log in",
        description="Checks the e-mail and password, sets the session cookie and returns the CSRF token "
        "to send in the X-CSRF-Token header on writes. Failed attempts slow down further attempts "
        "per account and address (429 with Retry-After); a browser or address that logged in to the "
        "account before is never held back by others' failures.",
        responses=problem_responses(401, 429),
    )
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        staff_service: NamedDependency[StaffService],
    ) -> Response[Me]:
        settings: Settings = request.app.state.settings
        redis: Redis = request.app.state.redis
        throttle = _throttle(request)
        attempt = throttle.attempt(
            data.email, request_address(request), request.cookies.get(settings.security.known_device_cookie)
        )
        if wait := await throttle.begin(attempt):
            raise _too_many(wait)
        try:
            staff = await staff_service.authenticate(data.email, data.password)
            if staff is None:
                if wait := await throttle.failed(attempt):
                    raise _too_many(wait)
                raise ProblemError(401, "Wrong e-mail or password", code="wrong_credentials")
            await throttle.succeeded(attempt)
        finally:
            await throttle.end(attempt)
        ttl = settings.security.session_ttl_seconds
        token, session = await sessions.open_session(redis, staff.id, staff.role.value, ttl)
        current_actor.set(Actor(kind="staff", id=staff.id, request_id=current_actor.get().request_id))
        record(staff_service.repository.session, "login", "staff", staff.id)
        me = Me(id=staff.id, email=staff.email, name=staff.name, role=staff.role, csrf_token=session.csrf_token)
        return Response(
            me,
            cookies=[
                _session_cookie(settings, token, ttl),
                _device_cookie(settings, throttle.device_cookie_value(attempt)),
            ],
        )

    @post(
        "/accept-invitation",
        operation_id="acceptInvitation",
        summary="Accept an invitation",
        description="Sets the password of an invited staff member from the token of the invitation e-mail; "
        "they can then log in.",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def accept_invitation(
        self, data: JSONBody[AcceptInvitation], staff_service: NamedDependency[StaffService]
    ) -> None:
        await staff_service.accept_invitation(data.token, data.password)


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["Staff authentication"]
    guards = [requires_viewer]
    dependencies = {"staff_service": provide_staff_service}

    @post(
        "/logout",
        operation_id="logout",
        summary="Log out",
        status_code=HTTP_204_NO_CONTENT,
        description="Ends the current session and clears its cookie.",
    )
    async def logout(self, request: Request[Any, Any, Any]) -> Response[None]:
        settings: Settings = request.app.state.settings
        session: StaffSession = request.scope["auth"]
        await sessions.close_session(
            request.app.state.redis,
            request.scope["state"]["session_token"],
            session.staff_id,
            request.app.state.sessions,
        )
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=[_session_cookie(settings, "", 0)])

    @get(
        "/me",
        operation_id="whoAmI",
        summary="Current staff member",
        description="The logged-in staff member, with the session's CSRF token.",
    )
    async def me(self, request: Request[Any, Any, Any], staff_service: NamedDependency[StaffService]) -> Me:
        session: StaffSession = request.scope["auth"]
        staff = await staff_service.get(session.staff_uuid)
        return Me(id=staff.id, email=staff.email, name=staff.name, role=staff.role, csrf_token=session.csrf_token)
