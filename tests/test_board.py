from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.db.models.organisation import OrganisationKind
from crm.db.models.staff import StaffRole
from tests.test_people import MakeOrg, add_person, as_role, org_maker

TODAY = date.today()


@pytest.fixture
def make_org(engine: AsyncEngine) -> MakeOrg:
    return org_maker(engine)


async def add_mandate(client: AsyncTestClient[Any], **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/mandates", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def test_one_president_at_a_time(admin_client: AsyncTestClient[Any], make_org: MakeOrg) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    jf = await add_person(admin_client, first_name="Jean-François", last_name="d’Arcy")
    first = await add_mandate(
        admin_client,
        person_id=zoe["id"],
        organisation_id=lyon,
        role="president",
        term_start="2021-06-01",
        term_end="2024-05-31",
    )
    assert (first["person_name"], first["organisation_name"]) == ("Zoé Lefèvre-Dupont", "Lyon")

    overlapping = await admin_client.post(
        "/api/v1/mandates",
        json={"person_id": jf["id"], "organisation_id": lyon, "role": "president", "term_start": "2024-05-31"},
    )
    assert overlapping.status_code == 409
    assert overlapping.json()["errors"][0]["field"] == "role"
    assert "Lefèvre-Dupont" in overlapping.json()["detail"]

    second = await add_mandate(
        admin_client, person_id=jf["id"], organisation_id=lyon, role="president", term_start="2024-06-01"
    )
    # Several vice-presidents and members may sit at once.
    for person, role in ((zoe, "vice_president"), (jf, "vice_president"), (zoe, "member")):
        await add_mandate(
            admin_client, person_id=person["id"], organisation_id=lyon, role=role, term_start="2024-06-01"
        )
    # An open-ended treasurer blocks a later one; so does stretching a past term over the current one.
    await add_mandate(
        admin_client, person_id=zoe["id"], organisation_id=lyon, role="treasurer", term_start="2020-01-01"
    )
    later = await admin_client.post(
        "/api/v1/mandates",
        json={"person_id": jf["id"], "organisation_id": lyon, "role": "treasurer", "term_start": "2030-01-01"},
    )
    assert later.status_code == 409
    stretched = await admin_client.patch(f"/api/v1/mandates/{first['id']}", json={"term_end": "2025-12-31"})
    assert stretched.status_code == 409
    assert stretched.json()["errors"][0]["field"] == "role"
    assert (await admin_client.get(f"/api/v1/mandates/{first['id']}")).json()["term_end"] == "2024-05-31"
    # Changing a mandate's own dates does not conflict with itself.
    moved = await admin_client.patch(f"/api/v1/mandates/{second['id']}", json={"term_end": "2027-05-31"})
    assert moved.status_code == 200
    assert moved.json()["term_end"] == "2027-05-31"


async def test_bad_terms_and_parties_name_the_field(admin_client: AsyncTestClient[Any], make_org: MakeOrg) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    backwards = await admin_client.post(
        "/api/v1/mandates",
        json={
            "person_id": zoe["id"],
            "organisation_id": lyon,
            "role": "member",
            "term_start": "2024-06-01",
            "term_end": "2024-01-01",
        },
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "term_end"
    nobody = await admin_client.post(
        "/api/v1/mandates",
        json={"person_id": lyon, "organisation_id": lyon, "role": "member", "term_start": "2024-06-01"},
    )
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0]["field"] == "person_id"
    bad_role = await admin_client.post(
        "/api/v1/mandates",
        json={"person_id": zoe["id"], "organisation_id": lyon, "role": "roi", "term_start": "2024-06-01"},
    )
    assert bad_role.status_code in (400, 422)
    assert "role" in bad_role.json()["errors"][0]["field"]
    assert (await admin_client.get("/api/v1/mandates")).json()["total"] == 0


async def test_the_board_as_it_stood_on_a_past_day(admin_client: AsyncTestClient[Any], make_org: MakeOrg) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    ajaccio = await make_org("Ajaccio", OrganisationKind.COMMUNE, insee_code="2A004")
    villes = await make_org("Villes de France")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    jf = await add_person(admin_client, first_name="Jean-François", last_name="d’Arcy")
    anne = await add_person(admin_client, first_name="Anne", last_name="Martin")
    paul = await add_person(admin_client, first_name="Paul", last_name="Bernard")
    term = {"term_start": "2022-06-01", "term_end": "2025-06-30"}
    await add_mandate(admin_client, person_id=anne["id"], organisation_id=villes, role="member", **term)
    await add_mandate(admin_client, person_id=paul["id"], organisation_id=ajaccio, role="secretary", **term)
    await add_mandate(admin_client, person_id=jf["id"], organisation_id=ajaccio, role="vice_president", **term)
    await add_mandate(admin_client, person_id=zoe["id"], organisation_id=lyon, role="president", **term)
    await add_mandate(admin_client, person_id=anne["id"], organisation_id=lyon, role="treasurer", **term)
    # The next board: Jean-François becomes president on 1 July 2025.
    await add_mandate(
        admin_client, person_id=jf["id"], organisation_id=ajaccio, role="president", term_start="2025-07-01"
    )
    await add_mandate(
        admin_client,
        person_id=zoe["id"],
        organisation_id=lyon,
        role="member",
        term_start="2025-07-01",
        term_end=str(TODAY + timedelta(days=365)),
    )

    board = (await admin_client.get("/api/v1/mandates/board", params={"on": "2025-06-30"})).json()
    assert board["on"] == "2025-06-30"
    assert [(s["role"], s["person_name"], s["organisation_name"]) for s in board["seats"]] == [
        ("president", "Zoé Lefèvre-Dupont", "Lyon"),
        ("vice_president", "Jean-François d’Arcy", "Ajaccio"),
        ("treasurer", "Anne Martin", "Lyon"),
        ("secretary", "Paul Bernard", "Ajaccio"),
        ("member", "Anne Martin", "Villes de France"),
    ]
    before = (await admin_client.get("/api/v1/mandates/board", params={"on": "2022-05-31"})).json()
    assert before["seats"] == []
    today = (await admin_client.get("/api/v1/mandates/board")).json()
    assert today["on"] == str(TODAY)
    assert [(s["role"], s["last_name"]) for s in today["seats"]] == [
        ("president", "d’Arcy"),
        ("member", "Lefèvre-Dupont"),
    ]
    bad_day = await admin_client.get("/api/v1/mandates/board", params={"on": "30/06/2025"})
    assert bad_day.status_code == 400
    assert bad_day.json()["errors"][0]["field"] == "on"


async def test_mandates_ending_soon_and_other_filters(admin_client: AsyncTestClient[Any], make_org: MakeOrg) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    bastia = await make_org("Bastia", OrganisationKind.COMMUNE, insee_code="2B033")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    jf = await add_person(admin_client, first_name="Jean-François", last_name="d’Arcy")
    start = str(TODAY - timedelta(days=700))
    in_80 = await add_mandate(
        admin_client,
        person_id=zoe["id"],
        organisation_id=lyon,
        role="member",
        term_start=start,
        term_end=str(TODAY + timedelta(days=80)),
    )
    in_10 = await add_mandate(
        admin_client,
        person_id=jf["id"],
        organisation_id=bastia,
        role="secretary",
        term_start=start,
        term_end=str(TODAY + timedelta(days=10)),
    )
    later = await add_mandate(
        admin_client,
        person_id=zoe["id"],
        organisation_id=lyon,
        role="treasurer",
        term_start=start,
        term_end=str(TODAY + timedelta(days=200)),
    )
    ended = await add_mandate(
        admin_client,
        person_id=jf["id"],
        organisation_id=bastia,
        role="member",
        term_start="2015-01-01",
        term_end=str(TODAY - timedelta(days=1)),
    )
    open_ended = await add_mandate(
        admin_client, person_id=jf["id"], organisation_id=lyon, role="vice_president", term_start=start
    )

    async def ids(**params: Any) -> list[str]:
        response = await admin_client.get("/api/v1/mandates", params=params)
        assert response.status_code == 200, response.text
        return [m["id"] for m in response.json()["items"]]

    assert await ids(ending_within_days=90) == [in_10["id"], in_80["id"]]
    assert await ids(ending_within_days=10) == [in_10["id"]]
    assert await ids(ending_within_days=365) == [in_10["id"], in_80["id"], later["id"]]
    assert set(await ids(current="true")) == {in_80["id"], in_10["id"], later["id"], open_ended["id"]}
    assert await ids(current="false") == [ended["id"]]
    assert set(await ids(person_id=zoe["id"])) == {in_80["id"], later["id"]}
    assert set(await ids(organisation_id=bastia)) == {in_10["id"], ended["id"]}
    assert await ids(role="vice_president") == [open_ended["id"]]
    negative = await admin_client.get("/api/v1/mandates", params={"ending_within_days": -5})
    assert negative.status_code == 400
    assert negative.json()["errors"][0]["field"] == "ending_within_days"


async def test_roles_on_the_board(client: AsyncTestClient[Any], make_staff: Any, make_org: MakeOrg) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    await as_role(client, make_staff, StaffRole.EDITOR)
    zoe = await add_person(client, first_name="Zoé", last_name="Lefèvre-Dupont")
    mandate = await add_mandate(
        client, person_id=zoe["id"], organisation_id=lyon, role="president", term_start="2024-01-01"
    )
    assert (await client.delete(f"/api/v1/mandates/{mandate['id']}")).status_code == 403
    await as_role(client, make_staff, StaffRole.VIEWER)
    assert (await client.get("/api/v1/mandates/board")).status_code == 200
    assert (await client.patch(f"/api/v1/mandates/{mandate['id']}", json={"term_end": "2026-01-01"})).status_code == 403
    await as_role(client, make_staff, StaffRole.ADMIN)
    assert (await client.delete(f"/api/v1/mandates/{mandate['id']}")).status_code == 204
    assert (await client.get("/api/v1/mandates")).json()["total"] == 0


async def test_the_same_mandate_cannot_be_held_twice_at_once(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    nice = await make_org("Nice", OrganisationKind.COMMUNE, insee_code="06088")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    term = {"person_id": zoe["id"], "organisation_id": lyon, "role": "member"}
    first = await add_mandate(admin_client, **term, term_start="2021-06-01", term_end="2024-05-31")
    for start, end in (("2021-06-01", "2024-05-31"), ("2024-05-31", None), ("2019-01-01", "2021-06-01")):
        twice = await admin_client.post("/api/v1/mandates", json={**term, "term_start": start, "term_end": end})
        assert twice.status_code == 409, (start, end)
        assert [e["field"] for e in twice.json()["errors"]] == ["term_start"]
    # The next term, another role or another organisation are other mandates.
    renewed = await add_mandate(admin_client, **term, term_start="2024-06-01")
    await add_mandate(admin_client, **{**term, "role": "vice_president"}, term_start="2021-06-01")
    await add_mandate(admin_client, **{**term, "organisation_id": nice}, term_start="2021-06-01")
    # Stretching the first term over the renewal is refused too, and changes nothing.
    stretched = await admin_client.patch(f"/api/v1/mandates/{first['id']}", json={"term_end": "2024-06-01"})
    assert stretched.status_code == 409
    assert [e["field"] for e in stretched.json()["errors"]] == ["term_start"]
    assert (await admin_client.get(f"/api/v1/mandates/{renewed['id']}")).json()["term_start"] == "2024-06-01"
    assert (await admin_client.get(f"/api/v1/mandates/{first['id']}")).json()["term_end"] == "2024-05-31"
    assert (await admin_client.get("/api/v1/mandates")).json()["total"] == 4


async def test_q_finds_mandates_by_person_or_organisation(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    nice = await make_org("Nice", OrganisationKind.COMMUNE, insee_code="06088")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont", email="zoe@lyon.fr")
    jf = await add_person(admin_client, first_name="Jean-François", last_name="d’Arcy")
    await add_mandate(admin_client, person_id=zoe["id"], organisation_id=lyon, role="member", term_start="2022-01-01")
    await add_mandate(admin_client, person_id=jf["id"], organisation_id=nice, role="member", term_start="2022-01-01")

    async def found(q: str) -> list[str]:
        response = await admin_client.get("/api/v1/mandates", params={"q": q})
        assert response.status_code == 200
        return sorted(f"{i['person_name']} @ {i['organisation_name']}" for i in response.json()["items"])

    assert await found("lefevre") == ["Zoé Lefèvre-Dupont @ Lyon"]
    assert await found("jean francois") == ["Jean-François d’Arcy @ Nice"]
    assert await found("nice") == ["Jean-François d’Arcy @ Nice"]
    assert await found("zzzzzz") == []
