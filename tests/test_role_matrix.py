"""The role matrix in docs/roles.md is the app's own: every route with the least role its guards
let in. Deny by default: every controller (and router) declares a class-level guard, a role or
`open_to_anyone`; a route without one, missing from the doc, answering a role the doc does not give
it, or open to anyone without being in PUBLIC below fails here. After changing a guard on purpose:
`python -m tests.test_role_matrix > docs/roles.md`."""

from __future__ import annotations

import re
from pathlib import Path

from crm.app import create_app
from crm.config import DatabaseSettings, RedisSettings, Settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "roles.md"
ROLE_OF_GUARD = {
    "requires_admin": "admin",
    "requires_editor": "editor",
    "requires_viewer": "viewer",
    "open_to_anyone": "anyone",
}
RANK = ["admin", "editor", "viewer", "anyone"]
# Partner routes take a bearer key, not a session: their controller's class-level guard is
# `requires_partner_key`, and each route must name the scope it needs (`requires_scope(...)`); the
# matrix lists them as `partner <scope>`. A partner route without a scope counts as unguarded.
PARTNER_GUARD = "requires_partner_key"
UNGUARDED = "no guard"
# The routes anyone may call, on purpose: logging in, the staff invitation, the public pages (signed
# links or nothing), health and metrics probes, the admin app's shell and assets (its API calls need
# a session), the OpenAPI schema.
PUBLIC = {
    "/",
    "/admin",
    "/admin/assets/{file_path:path}",
    "/api/v1/auth/accept-invitation",
    "/api/v1/auth/login",
    "/api/v1/atlaas/actions",
    "/api/v1/atlaas/actions/{action_id:uuid}",
    "/archive",
    "/archive/campaigns/{campaign_id:uuid}",
    "/atlaas",
    "/atlaas/actions/{action_id:uuid}",
    "/atlaas/export.csv",
    "/atlaas/proposer/{token:str}",
    "/brand/logo/{version:int}",
    "/confirm/{token:str}",
    "/health/live",
    "/health/ready",
    "/metrics",
    "/p/{token:str}",
    "/palmares/{year:int}",
    "/preview-link",
    "/q/{token:str}",
    "/q/{token:str}/answers",
    "/q/{token:str}/files/{key:str}",
    "/jury/{token:str}",
    "/jury/{token:str}/applications/{response_id:uuid}",
    "/resultats/{questionnaire_id:uuid}",
    "/rsvp/{token:str}",
    "/rsvp/{token:str}/opened",
    "/schema",
    "/schema/openapi.json",
    "/schema/scalar",
    "/schema/{path:str}",
    "/staff/invitation",
    "/subscribe",
    "/u/{token:str}",
}
ROW = re.compile(r"^\| `(?P<method>[A-Z]+)` \| `(?P<path>[^`]+)` \| (?P<role>[a-z :]+?) \|$")
HEADER = """# Who may call what

Generated from the app's guards by `python -m tests.test_role_matrix > docs/roles.md`; a test fails
when the app and this table differ. Roles: `viewer` reads, `editor` also writes, `admin` also deletes
and runs staff accounts, the audit log, API clients and fee bands; `partner <scope>` is the partner API,
called with an API key holding that scope; `anyone` needs no session: login, invitations,
health and metrics, the OpenAPI schema, the admin app's shell, the association's logo, and the public pages (`/u`, `/p`,
`/rsvp`, `/subscribe`, `/archive`), which take signed links or nothing, not roles.

| method | path | least role |
|---|---|---|
"""


def _guard_name(guard: object) -> str:
    # Litestar wraps each guard in an AsyncCallable that keeps the function as `func`.
    return getattr(getattr(guard, "func", guard), "__name__", "")


def app_matrix() -> dict[tuple[str, str], str]:
    settings = Settings(
        environment="test",
        database=DatabaseSettings(url="postgresql://nobody@127.0.0.1/none"),
        redis=RedisSettings(url="redis://127.0.0.1:6379/0"),
    )
    matrix: dict[tuple[str, str], str] = {}
    for route in create_app(settings).routes:
        for handler in getattr(route, "route_handlers", []):
            methods = handler.http_methods - {"OPTIONS", "HEAD"}
            if not methods:
                continue  # Litestar's own OPTIONS answers, and HEAD beside a GET
            # Litestar turns a controller into the router that owns its handlers: a guard there is
            # the controller's class-level guard. One only on the handler does not count.
            owner = handler.owner
            declared = {_guard_name(g) for g in (owner.guards if owner is not None else [])}
            guards = handler.resolve_guards()
            roles = [ROLE_OF_GUARD[n] for n in map(_guard_name, guards) if n in ROLE_OF_GUARD]
            role = min(roles, key=RANK.index) if roles and declared & set(ROLE_OF_GUARD) else UNGUARDED
            scopes = sorted(getattr(getattr(g, "func", g), "scope", "") for g in guards)
            scopes = [s for s in scopes if s]
            if PARTNER_GUARD in declared and not roles:
                role = f"partner {' '.join(scopes)}" if scopes else UNGUARDED
            for method in methods:
                matrix[(method, route.path)] = role
    return matrix


def doc_matrix() -> dict[tuple[str, str], str]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if match := ROW.match(line):
            rows[(match["method"], match["path"])] = match["role"]
    return rows


def render(matrix: dict[tuple[str, str], str]) -> str:
    lines = [
        f"| `{method}` | `{path}` | {role} |"
        for (method, path), role in sorted(matrix.items(), key=lambda r: (r[0][1], r[0][0]))
    ]
    return HEADER + "\n".join(lines) + "\n"


def test_every_api_route_has_the_role_the_docs_give_it() -> None:
    app, doc = app_matrix(), doc_matrix()
    assert set(app) - set(doc) == set(), "routes missing from docs/roles.md"
    assert set(doc) - set(app) == set(), "docs/roles.md names routes the app no longer has"
    assert {k: v for k, v in app.items() if doc[k] != v} == {}, "roles differ from docs/roles.md"


def test_every_controller_declares_a_class_level_guard() -> None:
    unguarded = sorted(f"{method} {path}" for (method, path), role in app_matrix().items() if role == UNGUARDED)
    assert unguarded == [], "give these routes' controllers a class-level guard (a role, or open_to_anyone)"


def test_only_the_public_list_is_open_to_anyone() -> None:
    anyone = {path for (_, path), role in app_matrix().items() if role == "anyone"}
    assert anyone == PUBLIC


def test_an_unguarded_controller_fails_the_matrix() -> None:
    """The check itself: a controller added without a class-level guard is caught, even when its
    handler names a role (a later handler in the same class would be public)."""
    from litestar import Controller, get

    from crm.domain.auth.guards import requires_viewer

    class Forgotten(Controller):
        path = "/api/v1/forgotten"

        @get("/", guards=[requires_viewer])
        async def one(self) -> None: ...

        @get("/other")
        async def other(self) -> None: ...

    from crm import app as app_module

    app_module.ROUTE_HANDLERS.append(Forgotten)
    try:
        matrix = app_matrix()
    finally:
        app_module.ROUTE_HANDLERS.remove(Forgotten)
    assert matrix[("GET", "/api/v1/forgotten")] == UNGUARDED
    assert matrix[("GET", "/api/v1/forgotten/other")] == UNGUARDED


def test_a_partner_route_without_a_scope_fails_the_matrix() -> None:
    """Deny by default holds for the partner API too: a key is not enough, a route names its scope."""
    from litestar import Controller, get

    from crm.domain.partners.auth import requires_partner_key

    class NoScope(Controller):
        path = "/api/v1/partner/forgotten"
        guards = [requires_partner_key]

        @get("/")
        async def one(self) -> None: ...

    from crm import app as app_module

    app_module.ROUTE_HANDLERS.append(NoScope)
    try:
        matrix = app_matrix()
    finally:
        app_module.ROUTE_HANDLERS.remove(NoScope)
    assert matrix[("GET", "/api/v1/partner/forgotten")] == UNGUARDED
    assert matrix[("POST", "/api/v1/partner/contacts/batch")] == "partner contacts:write"


if __name__ == "__main__":
    print(render(app_matrix()), end="")
