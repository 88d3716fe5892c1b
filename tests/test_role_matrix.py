"""The role matrix in docs/roles.md is the app's own: every API route with the least role its
guards let in. Deny by default means a route missing from the doc, or answering a role the doc does
not give it, fails here. After changing a guard on purpose: `python -m tests.test_role_matrix > docs/roles.md`."""

from __future__ import annotations

import re
from pathlib import Path

from crm.app import create_app
from crm.config import DatabaseSettings, RedisSettings, Settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "roles.md"
ROLE_OF_GUARD = {"requires_admin": "admin", "requires_editor": "editor", "requires_viewer": "viewer"}
RANK = ["admin", "editor", "viewer"]
ROW = re.compile(r"^\| `(?P<method>[A-Z]+)` \| `(?P<path>[^`]+)` \| (?P<role>[a-z ]+?) \|$")
HEADER = """# Who may call what

Generated from the app's guards by `python -m tests.test_role_matrix > docs/roles.md`; a test fails
when the app and this table differ. Roles: `viewer` reads, `editor` also writes, `admin` also deletes
and runs staff accounts, the audit log and fee bands; `anyone` needs no session (login, invitations). Public
pages (`/u`, `/p`, `/rsvp`, `/subscribe`, `/archive`) take signed links or nothing, not roles.

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
        if not route.path.startswith("/api/"):
            continue
        for handler in getattr(route, "route_handlers", []):
            roles = [ROLE_OF_GUARD[n] for n in map(_guard_name, handler.resolve_guards()) if n in ROLE_OF_GUARD]
            role = min(roles, key=RANK.index) if roles else "anyone"
            for method in handler.http_methods - {"OPTIONS", "HEAD"}:
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


def test_only_login_and_invitations_are_open_to_anyone() -> None:
    anyone = {path for (_, path), role in app_matrix().items() if role == "anyone"}
    assert anyone == {"/api/v1/auth/login", "/api/v1/auth/accept-invitation"}


if __name__ == "__main__":
    print(render(app_matrix()), end="")
