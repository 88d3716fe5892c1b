"""Bad input gets a problem-details answer naming the field; nothing reaches the client of a crash."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.testing import AsyncTestClient


async def test_a_malformed_payload_names_the_field(admin_client: AsyncTestClient[Any]) -> None:
    response = await admin_client.post("/api/v1/staff", json={"email": "pas-une-adresse", "role": "chef"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    fields = {e["field"] for e in body["errors"]}
    assert {"email", "role"} <= fields
    assert body["status"] == response.status_code
    assert "email" in body["detail"]
    # Nothing was stored.
    assert (await admin_client.get("/api/v1/staff")).json()["total"] == 1


async def test_each_error_has_a_stable_code_a_client_can_word_in_french(admin_client: AsyncTestClient[Any]) -> None:
    response = await admin_client.post(
        "/api/v1/organisations", json={"kind": "commune", "insee_code": "2A004", "email": "pas-une-adresse"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    by_field = {e["field"]: e for e in body["errors"]}
    assert by_field["email"]["code"] == "email"
    assert "@" in by_field["email"]["detail"]  # the English text stays, for developers

    long_name = await admin_client.post("/api/v1/organisations", json={"kind": "association", "name": "x" * 201})
    (error,) = long_name.json()["errors"]
    assert (error["field"], error["code"], error["params"]) == ("name", "string_too_long", {"max_length": 200})

    await admin_client.post("/api/v1/organisations", json={"kind": "commune", "insee_code": "2A004"})
    twice = await admin_client.post("/api/v1/organisations", json={"kind": "commune", "insee_code": "2A004"})
    assert twice.status_code == 409
    assert twice.json()["code"] == "conflict"
    assert [(e["field"], e["code"]) for e in twice.json()["errors"]] == [("insee_code", "already_used")]

    typo = await admin_client.post("/api/v1/organisations", json={"kind": "commune", "insee_code": "2O004"})
    assert typo.json()["errors"][0]["code"] == "not_insee_code"
    assert typo.json()["errors"][0]["params"] == {"value": "2O004"}
    missing = await admin_client.get("/api/v1/organisations/01930000-0000-7000-8000-000000000000")
    assert missing.json()["code"] == "not_found"


async def test_an_unknown_field_is_refused_by_name(admin_client: AsyncTestClient[Any]) -> None:
    response = await admin_client.post("/api/v1/staff", json={"email": "a@example.org", "is_admin": True})
    assert response.status_code == 422
    assert any(e["field"] == "is_admin" for e in response.json()["errors"])


async def test_invalid_json_is_a_problem_too(admin_client: AsyncTestClient[Any]) -> None:
    response = await admin_client.post(
        "/api/v1/staff", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_unknown_route_and_record(admin_client: AsyncTestClient[Any]) -> None:
    missing_route = await admin_client.get("/api/v1/nothing-here")
    assert missing_route.status_code == 404
    assert missing_route.headers["content-type"].startswith("application/problem+json")
    missing = await admin_client.get("/api/v1/staff/01930000-0000-7000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["title"] == "Not found"
    not_a_uuid = await admin_client.get("/api/v1/staff/42")
    assert not_a_uuid.status_code == 404


async def test_a_crash_answers_500_without_a_trace(settings: Any) -> None:
    from crm.app import create_app

    app = create_app(settings)

    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app.register(boom)
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert response.headers["x-request-id"]


async def test_request_id_is_echoed_when_sane(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = await client.get("/health/live")
    assert len(generated.headers["x-request-id"]) == 32


async def test_a_value_the_database_refuses_is_bad_input_not_a_conflict(admin_client: AsyncTestClient[Any]) -> None:
    # PostgreSQL refuses a NUL byte in text: that is the client's input, not a clash with a record.
    in_query = await admin_client.get("/api/v1/tags", params={"q": "a\x00b"})
    assert in_query.status_code == 400, in_query.text
    assert in_query.headers["content-type"].startswith("application/problem+json")
    in_body = await admin_client.post("/api/v1/tags", json={"name": "a\x00b"})
    assert in_body.status_code == 422, in_body.text
    assert (await admin_client.get("/api/v1/tags")).json()["total"] == 0


async def test_an_integer_wider_than_its_column_is_bad_input_not_a_crash(admin_client: AsyncTestClient[Any]) -> None:
    response = await admin_client.get("/api/v1/labels/palmares", params={"year": "9999999999999999"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
