"""The OpenAPI document tells the truth: every operation lists the problem answers it can give, as
application/problem+json, and OPTIONS and 405 answers name the methods a path really has."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from crm.domain.auth.middleware import CSRF_EXEMPT

PROBLEM = "application/problem+json"
WRITES = {"post", "put", "patch", "delete"}
UNGUARDED = {"/health/live", "/health/ready", "/api/v1/auth/login", "/api/v1/auth/accept-invitation"}


def _operations(app: Litestar) -> list[tuple[str, str, dict[str, Any]]]:
    paths = app.openapi_schema.to_schema()["paths"]
    return [
        (method, path, op) for path, item in paths.items() for method, op in item.items() if method in WRITES | {"get"}
    ]


def _expected(method: str, path: str, op: dict[str, Any]) -> set[int]:
    params = op.get("parameters", [])
    expected: set[int] = set()
    if path not in UNGUARDED:
        expected |= {401, 403}
    if any(p["in"] == "path" for p in params):
        expected |= {400, 404}
    if any(p["in"] in ("query", "header", "cookie") for p in params):
        expected |= {400, 422}
    if "requestBody" in op:
        expected |= {400, 413, 422}
    if method in WRITES:
        expected |= {409, 422}
        if path.startswith("/api/") and path not in CSRF_EXEMPT:
            expected.add(403)
    return expected


def test_every_operation_lists_its_problem_answers(app: Litestar) -> None:
    missing = []
    for method, path, op in _operations(app):
        responses = op["responses"]
        for status in sorted(_expected(method, path, op)):
            content = responses.get(str(status), {}).get("content", {})
            if content.get(PROBLEM, {}).get("schema") != {"$ref": "#/components/schemas/Problem"}:
                missing.append(f"{method.upper()} {path} {status}")
        # No error answer is documented in any other shape.
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert set(response.get("content", {})) == {PROBLEM}, f"{method.upper()} {path} {status}"
    assert not missing, "\n".join(missing)


def test_special_problem_answers_are_declared_where_they_happen(app: Litestar) -> None:
    paths = app.openapi_schema.to_schema()["paths"]
    login = paths["/api/v1/auth/login"]["post"]["responses"]
    assert {"401", "429"} <= set(login)
    assert "503" in paths["/health/ready"]["get"]["responses"]
    problem = app.openapi_schema.to_schema()["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["required"])


def _sample_path(route: HTTPRoute) -> str:
    def fill(match: re.Match[str]) -> str:
        return {"uuid": str(uuid4()), "int": "2024"}.get(match.group(2), "sample")

    return re.sub(r"\{(\w+):(\w+)\}", fill, route.path)


@pytest.mark.parametrize("unsafe", [False, True], ids=["options", "405"])
async def test_allow_names_every_method_of_the_path(
    app: Litestar, admin_client: AsyncTestClient[Litestar], unsafe: bool
) -> None:
    wrong = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/schema"):
            continue
        path = _sample_path(route)
        methods = set(route.methods)
        if unsafe:
            method = next(m for m in ("PUT", "PATCH", "DELETE", "POST", "GET") if m not in methods)
            response = await admin_client.request(method, path)
            assert response.status_code == 405, (method, path, response.text)
            assert response.headers["content-type"].startswith(PROBLEM)
        else:
            response = await admin_client.options(path)
            assert response.status_code == 204, (path, response.text)
        allow = {m.strip() for m in response.headers.get("allow", "").split(",")}
        if allow != methods:
            wrong.append(f"{path}: Allow {sorted(allow)}, serves {sorted(methods)}")
    assert not wrong, "\n".join(wrong)


def test_sort_fields_are_an_enum_of_each_list(app: Litestar) -> None:
    paths = app.openapi_schema.to_schema()["paths"]
    sort = next(p for p in paths["/api/v1/tags"]["get"]["parameters"] if p["name"] == "sort")
    assert set(sort["schema"]["enum"]) == {"name", "-name", "created_at", "-created_at", None}


async def test_a_sort_field_off_the_enum_is_a_bad_parameter(admin_client: AsyncTestClient[Litestar]) -> None:
    response = await admin_client.get("/api/v1/tags", params={"sort": "-colour"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "sort"
    assert (await admin_client.get("/api/v1/tags", params={"sort": "-name", "limit": 5})).status_code == 200


async def test_a_campaign_kind_off_the_enum_is_a_bad_parameter(admin_client: AsyncTestClient[Litestar]) -> None:
    # The document lists the kinds; before, any text passed it and PostgreSQL refused it.
    response = await admin_client.get("/api/v1/campaigns", params={"kind": "flyer"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "kind"
    assert (await admin_client.get("/api/v1/campaigns", params={"kind": "newsletter"})).status_code == 200
