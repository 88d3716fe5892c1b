"""Reads the staff session cookie, checks the CSRF token on writes, and says who is acting.

It never refuses a request without a cookie: guards decide what needs a login, so public pages
and the partner API (bearer keys) pass through untouched."""

from __future__ import annotations

import hmac

from litestar.types import ASGIApp, Receive, Scope, Send
from redis.exceptions import RedisError

from crm.lib.actor import Actor, current_actor

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Logging in is how one gets a CSRF token; the password is the proof there.
CSRF_EXEMPT = frozenset({"/api/v1/auth/login", "/api/v1/auth/accept-invitation"})


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope["headers"]:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.lower().encode()
    for key, value in scope["headers"]:
        if key == wanted:
            return value.decode("latin-1")
    return None


def staff_session_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        litestar_app = scope["litestar_app"]
        settings = litestar_app.state.settings
        # Only the API knows staff sessions: public pages (unsubscribe, preferences, RSVP) never act
        # on them, so a logged-in staff member clicking their own newsletter's link is a contact like
        # any other there.
        token = _cookie(scope, settings.security.session_cookie) if scope["path"].startswith("/api/") else None
        request_id = scope.get("state", {}).get("request_id")
        if token:
            try:
                session = await litestar_app.state.sessions.load(token)
            except RedisError:
                await _problem(scope, receive, send, 503, "The session store (Redis) is unavailable")
                return
            if session is not None:
                method = scope.get("method", "GET")
                if method not in SAFE_METHODS and scope["path"] not in CSRF_EXEMPT:
                    sent = _header(scope, settings.security.csrf_header) or ""
                    if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
                        await _problem(
                            scope,
                            receive,
                            send,
                            403,
                            f"Missing or wrong CSRF token: send the {settings.security.csrf_header} header "
                            "given at login",
                        )
                        return
                scope["auth"] = session
                scope["state"]["session_token"] = token
                current_actor.set(Actor(kind="staff", id=session.staff_uuid, request_id=request_id))
                await app(scope, receive, send)
                return
        current_actor.set(Actor(kind="anonymous", request_id=request_id))
        await app(scope, receive, send)

    return middleware


async def _problem(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    from litestar import Request

    from crm.lib.problems import problem_response

    response = problem_response(Request(scope, receive), status, detail)
    await response.to_asgi_response(app=None, request=Request(scope, receive))(scope, receive, send)
