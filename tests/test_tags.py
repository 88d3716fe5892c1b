from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm.db.models.organisation import OrganisationKind
from crm.db.models.person import Person
from crm.db.models.staff import StaffRole
from crm.db.models.tag import Tag
from crm.domain.tags.services import tag_filter, tag_names_for
from tests.test_people import MakeOrg, add_person, as_role, org_maker


@pytest.fixture
def make_org(engine: AsyncEngine) -> MakeOrg:
    return org_maker(engine)


async def new_tag(client: AsyncTestClient[Any], name: str, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/tags", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def test_tag_names_are_unique_whatever_their_case(admin_client: AsyncTestClient[Any]) -> None:
    congres = await new_tag(admin_client, "Congrès 2025", color="#1f77b4")
    assert (congres["name"], congres["color"], congres["usage_count"]) == ("Congrès 2025", "#1f77b4", 0)
    clash = await admin_client.post("/api/v1/tags", json={"name": "CONGRÈS 2025"})
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["field"] == "name"
    villes = await new_tag(admin_client, "Villes moyennes")
    renamed = await admin_client.patch(f"/api/v1/tags/{villes['id']}", json={"name": "congrès 2025"})
    assert renamed.status_code == 409
    assert renamed.json()["errors"][0]["field"] == "name"
    # Changing only the case of its own name is fine.
    recased = await admin_client.patch(f"/api/v1/tags/{villes['id']}", json={"name": "VILLES MOYENNES"})
    assert recased.status_code == 200
    assert recased.json()["name"] == "VILLES MOYENNES"
    listed = (await admin_client.get("/api/v1/tags?q=congres")).json()
    assert [t["name"] for t in listed["items"]] == ["Congrès 2025"]


async def test_any_record_can_be_tagged_once_and_untagged(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    tag = await new_tag(admin_client, "Partenaire historique")
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    url = f"/api/v1/tags/{tag['id']}/taggings"

    first = await admin_client.post(url, json={"entity_type": "person", "entity_id": zoe["id"]})
    assert first.status_code == 201
    assert first.json()["label"] == "Zoé Lefèvre-Dupont"
    again = await admin_client.post(url, json={"entity_type": "person", "entity_id": zoe["id"]})
    assert again.status_code == 200
    org = await admin_client.post(url, json={"entity_type": "organisation", "entity_id": lyon})
    assert org.status_code == 201

    carried = (await admin_client.get(url)).json()
    assert carried["total"] == 2
    assert sorted((t["entity_type"], t["label"]) for t in carried["items"]) == [
        ("organisation", "Lyon"),
        ("person", "Zoé Lefèvre-Dupont"),
    ]
    only_people = (await admin_client.get(url, params={"entity_type": "person"})).json()
    assert [t["entity_id"] for t in only_people["items"]] == [zoe["id"]]
    assert (await admin_client.get(f"/api/v1/tags/{tag['id']}")).json()["usage_count"] == 2

    assert (await admin_client.delete(f"{url}/person/{zoe['id']}")).status_code == 204
    assert (await admin_client.delete(f"{url}/person/{zoe['id']}")).status_code == 204
    assert [t["entity_type"] for t in (await admin_client.get(url)).json()["items"]] == ["organisation"]
    assert (await admin_client.get(f"/api/v1/people/{zoe['id']}")).json()["tags"] == []


async def test_tagging_a_record_that_does_not_exist_names_entity_id(admin_client: AsyncTestClient[Any]) -> None:
    tag = await new_tag(admin_client, "Fantôme")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    url = f"/api/v1/tags/{tag['id']}/taggings"
    missing = await admin_client.post(url, json={"entity_type": "person", "entity_id": str(uuid4())})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "entity_id"
    # A person's id is not an organisation's.
    wrong_type = await admin_client.post(url, json={"entity_type": "organisation", "entity_id": zoe["id"]})
    assert wrong_type.status_code == 422
    assert wrong_type.json()["errors"][0]["field"] == "entity_id"
    unknown_type = await admin_client.post(url, json={"entity_type": "planète", "entity_id": zoe["id"]})
    assert unknown_type.status_code in (400, 422)
    assert "entity_type" in unknown_type.json()["errors"][0]["field"]
    assert (await admin_client.get(url)).json()["total"] == 0
    no_tag = await admin_client.post(
        f"/api/v1/tags/{uuid4()}/taggings", json={"entity_type": "person", "entity_id": zoe["id"]}
    )
    assert no_tag.status_code == 404


async def test_deleting_a_tag_takes_it_off_every_record(admin_client: AsyncTestClient[Any]) -> None:
    tag = await new_tag(admin_client, "Éphémère")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    await admin_client.post(
        f"/api/v1/tags/{tag['id']}/taggings", json={"entity_type": "person", "entity_id": zoe["id"]}
    )
    assert (await admin_client.delete(f"/api/v1/tags/{tag['id']}")).status_code == 204
    assert (await admin_client.get(f"/api/v1/tags/{tag['id']}")).status_code == 404
    assert (await admin_client.get(f"/api/v1/people/{zoe['id']}")).json()["tags"] == []
    removed = (
        await admin_client.get("/api/v1/audit-log", params={"entity_type": "tagging", "action": "delete"})
    ).json()
    assert removed["total"] == 1


async def test_roles_on_tags(client: AsyncTestClient[Any], make_staff: Any) -> None:
    await as_role(client, make_staff, StaffRole.EDITOR)
    tag = await new_tag(client, "Numérique responsable")
    person = await add_person(client, first_name="Jean-François", last_name="d’Arcy")
    url = f"/api/v1/tags/{tag['id']}/taggings"
    assert (await client.post(url, json={"entity_type": "person", "entity_id": person["id"]})).status_code == 201
    assert (await client.delete(f"/api/v1/tags/{tag['id']}")).status_code == 403
    await as_role(client, make_staff, StaffRole.VIEWER)
    assert (await client.get("/api/v1/tags")).json()["total"] == 1
    assert (await client.get(url)).status_code == 200
    assert (await client.post("/api/v1/tags", json={"name": "Autre"})).status_code == 403
    assert (await client.delete(f"{url}/person/{person['id']}")).status_code == 403
    await as_role(client, make_staff, StaffRole.ADMIN)
    assert (await client.delete(f"/api/v1/tags/{tag['id']}")).status_code == 204


async def test_the_helpers_other_lists_use(admin_client: AsyncTestClient[Any], engine: AsyncEngine) -> None:
    tag = await new_tag(admin_client, "Élu·e référent")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    jf = await add_person(admin_client, first_name="Jean-François", last_name="d’Arcy")
    await admin_client.post(
        f"/api/v1/tags/{tag['id']}/taggings", json={"entity_type": "person", "entity_id": zoe["id"]}
    )
    other = await new_tag(admin_client, "Atlaas")
    await admin_client.post(
        f"/api/v1/tags/{other['id']}/taggings", json={"entity_type": "person", "entity_id": zoe["id"]}
    )
    async with AsyncSession(engine) as session:
        tagged = (
            await session.scalars(select(Person.last_name).where(tag_filter("person", Person.id, "élu·e RÉFÉRENT")))
        ).all()
        assert tagged == ["Lefèvre-Dupont"]
        # The same id under another entity type does not match.
        assert (
            await session.scalars(select(Tag.id).where(tag_filter("organisation", Person.id, "Atlaas")))
        ).all() == []
        names = await tag_names_for(session, "person", [zoe["id"], jf["id"]])
    assert {str(k): v for k, v in names.items()} == {zoe["id"]: ["Atlaas", "Élu·e référent"], jf["id"]: []}


async def test_a_typographic_apostrophe_does_not_make_a_second_tag(admin_client: Any) -> None:
    first = await admin_client.post("/api/v1/tags", json={"name": "Villes d'Or"})
    assert first.status_code == 201
    twin = await admin_client.post("/api/v1/tags", json={"name": "villes  d’or"})
    assert twin.status_code == 409
    assert twin.json()["errors"][0]["field"] == "name"
