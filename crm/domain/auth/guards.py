"""Role guards: declared on controllers and handlers, so the route table reads as the
permission matrix. A request with no session gets 401, a session with too low a role 403."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler

from crm.db.models.staff import ROLE_RANK, StaffRole
from crm.lib.problems import ProblemError
from crm.lib.sessions import StaffSession


def _require(role: StaffRole):  # type: ignore[no-untyped-def]
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
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
