from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

AUDIT = "/api/v1/audit-log"


async def test_q_searches_the_audit_log_by_record_type_or_action(admin_client: AsyncTestClient[Any]) -> None:
    person = await admin_client.post("/api/v1/people", json={"first_name": "Zoé", "last_name": "Lefèvre"})
    assert person.status_code == 201
    renamed = await admin_client.patch(f"/api/v1/people/{person.json()['id']}", json={"last_name": "Lefèvre-Dupont"})
    assert renamed.status_code == 200
    org = await admin_client.post("/api/v1/organisations", json={"kind": "commune", "insee_code": "2A004"})
    assert org.status_code == 201

    async def found(q: str) -> list[tuple[str, str]]:
        response = await admin_client.get(AUDIT, params={"q": q, "limit": 500})
        assert response.status_code == 200, response.text
        return [(i["entity_type"], i["action"]) for i in response.json()["items"]]

    everything = await found("")
    people = await found("PERS")
    assert {entity for entity, _ in people} == {"person"}
    assert {action for _, action in people} >= {"create", "update"}
    updates = await found("updat")
    assert {action for _, action in updates} == {"update"}
    assert ("person", "update") in updates
    assert len(people) < len(everything)
    # Typed wildcards are just characters.
    assert await found("%") == []
    assert await found("zzzzzz") == []
