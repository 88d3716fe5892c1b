"""Role guards: declared on controllers and handlers, so the route table reads as the
permission matrix. A request with no session gets 401, a session with too low a role 403.

Deny by default: every controller declares a class-level guard. Public pages and the login
declare `open_to_anyone`, which lets everyone in but says so on purpose; tests/test_role_matrix.py
fails on a route with no guard and keeps the list of open routes."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler

from crm.db.models.staff import ROLE_RANK, StaffRole
from crm.lib.problems import ProblemError
from crm.lib.sessions import StaffSession


def _require(role: StaffRole):  # type: ignore[no-untyped-def]
    # A coroutine function: Litestar runs a plain function guard in a worker thread, a thread
    # hop per guard and per request (two for a list) that cost more than the check itself.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        session = connection.scope.get("auth")
        if not isinstance(session, StaffSession):
            raise NotAuthorizedException("Log in first (POST /api/v1/auth/login)")
        if ROLE_RANK[StaffRole(session.role)] < ROLE_RANK[role]:
            raise ProblemError(
                403, f"This needs the {role.value} role; you are {session.role}", code="role_too_low", role=role.value
            )

    guard.__name__ = f"requires_{role.value}"
    return guard


requires_viewer = _require(StaffRole.VIEWER)
requires_editor = _require(StaffRole.EDITOR)
requires_admin = _require(StaffRole.ADMIN)


def open_to_anyone(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Lets every caller in: the controller is public on purpose (signed links, login, health)."""
