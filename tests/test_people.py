from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm.db.models.organisation import Organisation, OrganisationKind
from crm.db.models.staff import StaffRole
from tests.conftest import log_in

TODAY = date.today()
MakeOrg = Callable[..., Awaitable[str]]


def org_maker(engine: AsyncEngine) -> MakeOrg:
    """Inserts an organisation straight into the database; returns its id."""

    async def make(
        name: str,
        kind: OrganisationKind = OrganisationKind.ASSOCIATION,
        region_code: str | None = None,
        insee_code: str | None = None,
    ) -> str:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            org = Organisation(name=name, kind=kind, region_code=region_code, insee_code=insee_code)
            session.add(org)
            await session.commit()
            return str(org.id)

    return make


@pytest.fixture
def make_org(engine: AsyncEngine) -> MakeOrg:
    return org_maker(engine)


async def as_role(client: AsyncTestClient[Any], make_staff: Any, role: StaffRole) -> AsyncTestClient[Any]:
    account = await make_staff(role, email=f"{role.value}.b@example.org")
    await log_in(client, account.email)
    return client


async def add_person(client: AsyncTestClient[Any], **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/people", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def add_position(client: AsyncTestClient[Any], **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/positions", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


def names(page: dict[str, Any]) -> list[str]:
    return sorted(f"{p['first_name']} {p['last_name']}" for p in page["items"])


async def test_a_person_is_created_with_a_normalised_email_and_french_defaults(
    admin_client: AsyncTestClient[Any],
) -> None:
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont", email="Zoe.LEFEVRE@Lyon.fr")
    assert zoe["email"] == "zoe.lefevre@lyon.fr"
    assert zoe["language"] == "fr"
    assert zoe["positions"] == []
    assert zoe["tags"] == []
    fetched = (await admin_client.get(f"/api/v1/people/{zoe['id']}")).json()
    assert fetched["last_name"] == "Lefèvre-Dupont"


async def test_an_email_belongs_to_one_person_but_many_may_have_none(admin_client: AsyncTestClient[Any]) -> None:
    await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont", email="zoe.lefevre@lyon.fr")
    duplicate = await admin_client.post(
        "/api/v1/people", json={"first_name": "Z", "last_name": "L", "email": "ZOE.Lefevre@LYON.fr"}
    )
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"].startswith("application/problem+json")
    assert duplicate.json()["errors"][0]["field"] == "email"
    await add_person(admin_client, first_name="Jean-François", last_name="d’Arcy")
    await add_person(admin_client, first_name="Marie", last_name="Martin", email=None)
    assert (await admin_client.get("/api/v1/people")).json()["total"] == 3


async def test_bad_input_names_the_field(admin_client: AsyncTestClient[Any]) -> None:
    bad_email = await admin_client.post(
        "/api/v1/people", json={"first_name": "A", "last_name": "B", "email": "pas-une-adresse"}
    )
    assert bad_email.status_code in (400, 422)
    assert "email" in bad_email.json()["errors"][0]["field"]
    no_name = await admin_client.post("/api/v1/people", json={"first_name": "A"})
    assert no_name.status_code in (400, 422)
    assert "last_name" in no_name.text
    # The sort fields are an enum of the OpenAPI document: a value off it is a bad query parameter.
    bad_sort = await admin_client.get("/api/v1/people?sort=notes")
    assert bad_sort.status_code == 400
    assert bad_sort.json()["errors"][0]["field"] == "sort"


async def test_search_forgives_case_accents_and_finds_email_domains(admin_client: AsyncTestClient[Any]) -> None:
    await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont", email="ZLD@Lyon.fr")
    await add_person(admin_client, first_name="Jean-François", last_name="d’Arcy", email="jf.darcy@grenoble.fr")
    await add_person(admin_client, first_name="Paul", last_name="Durand", email="paul@lyon.fr.example.com")

    async def search(q: str) -> list[str]:
        response = await admin_client.get("/api/v1/people", params={"q": q})
        assert response.status_code == 200
        return names(response.json())

    assert await search("dupont") == ["Zoé Lefèvre-Dupont"]
    assert await search("ZOE") == ["Zoé Lefèvre-Dupont"]
    assert await search("lefevre dupont") == ["Zoé Lefèvre-Dupont"]
    assert await search("jean francois") == ["Jean-François d’Arcy"]
    assert await search("d'arcy") == ["Jean-François d’Arcy"]
    assert await search("@lyon.fr") == ["Paul Durand", "Zoé Lefèvre-Dupont"]
    assert await search("@grenoble.fr") == ["Jean-François d’Arcy"]
    assert await search("inconnu") == []


async def test_list_sorts_on_allowed_fields(admin_client: AsyncTestClient[Any]) -> None:
    for first, last in (("Zoé", "Lefèvre-Dupont"), ("Jean-François", "d’Arcy"), ("Anne", "Martin")):
        await add_person(admin_client, first_name=first, last_name=last)
    by_first = (await admin_client.get("/api/v1/people?sort=first_name")).json()["items"]
    assert [p["first_name"] for p in by_first] == ["Anne", "Jean-François", "Zoé"]
    reverse = (await admin_client.get("/api/v1/people?sort=-first_name&limit=2")).json()
    assert [p["first_name"] for p in reverse["items"]] == ["Zoé", "Jean-François"]
    assert reverse["total"] == 3
    assert reverse["limit"] == 2


async def test_the_read_shape_shows_current_positions_and_tags(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, region_code="84", insee_code="69123")
    metro = await make_org("Métropole de Lyon", region_code="84")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    await add_position(
        admin_client,
        person_id=zoe["id"],
        organisation_id=lyon,
        title="Adjointe au numérique",
        kind="elected",
        started_on="2020-07-01",
    )
    await add_position(
        admin_client,
        person_id=zoe["id"],
        organisation_id=metro,
        title="Chargée de mission",
        kind="staff",
        started_on="2015-01-01",
        ended_on="2020-06-30",
    )
    # Current, with no known start: after the dated ones.
    await add_position(admin_client, person_id=zoe["id"], organisation_id=metro, title="Conseillère", kind="elected")
    for name in ("Congrès 2025", "atelier"):
        tag = (await admin_client.post("/api/v1/tags", json={"name": name})).json()
        await admin_client.post(
            f"/api/v1/tags/{tag['id']}/taggings", json={"entity_type": "person", "entity_id": zoe["id"]}
        )

    read = (await admin_client.get(f"/api/v1/people/{zoe['id']}")).json()
    assert [(p["title"], p["organisation_name"], p["kind"]) for p in read["positions"]] == [
        ("Adjointe au numérique", "Lyon", "elected"),
        ("Conseillère", "Métropole de Lyon", "elected"),
    ]
    assert read["positions"][0]["organisation_id"] == lyon
    assert read["positions"][0]["started_on"] == "2020-07-01"
    assert read["tags"] == ["atelier", "Congrès 2025"]
    listed = (await admin_client.get("/api/v1/people")).json()["items"][0]
    # The searched list reads its page in a query of its own: the same shape.
    searched = (await admin_client.get("/api/v1/people", params={"q": "zoe lefevre"})).json()["items"][0]
    for shown in (listed, searched):
        assert shown["positions"] == read["positions"]
        assert shown["tags"] == read["tags"]
        assert shown == read


async def test_filters_on_current_positions_board_tags_and_region(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, region_code="84", insee_code="69123")
    ajaccio = await make_org("Ajaccio", OrganisationKind.COMMUNE, region_code="94", insee_code="2A004")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    jf = await add_person(admin_client, first_name="Jean-François", last_name="d’Arcy")
    paul = await add_person(admin_client, first_name="Paul", last_name="Durand")
    await add_position(
        admin_client, person_id=zoe["id"], organisation_id=lyon, title="Adjointe au Numérique", kind="elected"
    )
    await add_position(admin_client, person_id=jf["id"], organisation_id=ajaccio, title="DSI", kind="staff")
    # Paul left Lyon: his old position no longer counts.
    await add_position(
        admin_client,
        person_id=paul["id"],
        organisation_id=lyon,
        title="DGS",
        kind="staff",
        started_on="2010-01-01",
        ended_on=str(TODAY - timedelta(days=1)),
    )
    await admin_client.post(
        "/api/v1/mandates",
        json={"person_id": jf["id"], "organisation_id": ajaccio, "role": "member", "term_start": "2024-01-01"},
    )
    await admin_client.post(
        "/api/v1/mandates",
        json={
            "person_id": paul["id"],
            "organisation_id": lyon,
            "role": "member",
            "term_start": "2018-01-01",
            "term_end": "2021-12-31",
        },
    )
    tag = (await admin_client.post("/api/v1/tags", json={"name": "Élu·e référent"})).json()
    await admin_client.post(
        f"/api/v1/tags/{tag['id']}/taggings", json={"entity_type": "person", "entity_id": paul["id"]}
    )

    async def filtered(**params: Any) -> list[str]:
        response = await admin_client.get("/api/v1/people", params=params)
        assert response.status_code == 200, response.text
        return names(response.json())

    assert await filtered(organisation_id=lyon) == ["Zoé Lefèvre-Dupont"]
    assert await filtered(title="numerique") == ["Zoé Lefèvre-Dupont"]
    assert await filtered(title="dgs") == []
    assert await filtered(kind="staff") == ["Jean-François d’Arcy"]
    assert await filtered(kind="elected", organisation_id=ajaccio) == []
    assert await filtered(region_code="94") == ["Jean-François d’Arcy"]
    assert await filtered(region_code="84", title="dsi") == []
    assert await filtered(board_member="true") == ["Jean-François d’Arcy"]
    assert await filtered(board_member="false") == ["Paul Durand", "Zoé Lefèvre-Dupont"]
    assert await filtered(tag="élu·e RÉFÉRENT") == ["Paul Durand"]
    assert await filtered(tag="absent") == []
    bad_region = await admin_client.get("/api/v1/people", params={"region_code": "Rhône"})
    assert bad_region.status_code == 422
    assert bad_region.json()["errors"][0]["field"] == "region_code"


async def test_a_page_of_people_costs_the_same_queries_whatever_its_size(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, region_code="84", insee_code="69123")
    tag = (await admin_client.post("/api/v1/tags", json={"name": "Numérique"})).json()

    async def add_people(count: int) -> None:
        for i in range(count):
            person = await add_person(admin_client, first_name=f"Élise{i}", last_name="Lefèvre")
            await add_position(admin_client, person_id=person["id"], organisation_id=lyon, title="DSI", kind="staff")
            await admin_client.post(
                f"/api/v1/tags/{tag['id']}/taggings", json={"entity_type": "person", "entity_id": person["id"]}
            )

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    async def queries_for_a_page() -> int:
        statements.clear()
        event.listen(Engine, "before_cursor_execute", count)
        try:
            response = await admin_client.get("/api/v1/people?limit=100")
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        assert response.status_code == 200
        assert all(p["positions"] and p["tags"] == ["Numérique"] for p in response.json()["items"])
        return len(statements)

    await add_people(2)
    small = await queries_for_a_page()
    await add_people(10)
    assert await queries_for_a_page() == small


async def test_patch_changes_only_what_is_sent(admin_client: AsyncTestClient[Any]) -> None:
    zoe = await add_person(
        admin_client, first_name="Zoé", last_name="Lefèvre", email="zoe@lyon.fr", phone="04 72 10 30 30"
    )
    await add_person(admin_client, first_name="Jean-François", last_name="d’Arcy", email="jf@grenoble.fr")
    changed = await admin_client.patch(
        f"/api/v1/people/{zoe['id']}", json={"last_name": "Lefèvre-Dupont", "notes": "Élue en 2020"}
    )
    assert changed.status_code == 200
    body = changed.json()
    assert (body["last_name"], body["email"], body["phone"], body["notes"]) == (
        "Lefèvre-Dupont",
        "zoe@lyon.fr",
        "04 72 10 30 30",
        "Élue en 2020",
    )
    taken = await admin_client.patch(f"/api/v1/people/{zoe['id']}", json={"email": "JF@Grenoble.fr"})
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["field"] == "email"
    empty = await admin_client.patch(f"/api/v1/people/{zoe['id']}", json={"first_name": None})
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["field"] == "first_name"
    cleared = await admin_client.patch(f"/api/v1/people/{zoe['id']}", json={"email": None})
    assert cleared.json()["email"] is None
    assert (await admin_client.get(f"/api/v1/people/{zoe['id']}")).json()["last_name"] == "Lefèvre-Dupont"


async def test_every_change_to_a_person_is_in_the_audit_log(admin_client: AsyncTestClient[Any]) -> None:
    me = (await admin_client.get("/api/v1/auth/me")).json()
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre", email="zoe@lyon.fr")
    await admin_client.patch(f"/api/v1/people/{zoe['id']}", json={"last_name": "Lefèvre-Dupont"})
    assert (await admin_client.delete(f"/api/v1/people/{zoe['id']}")).status_code == 204
    log = (
        await admin_client.get("/api/v1/audit-log", params={"entity_type": "person", "entity_id": zoe["id"]})
    ).json()["items"]
    by_action = {entry["action"]: entry for entry in log}
    assert set(by_action) == {"create", "update", "delete"}
    assert by_action["create"]["changes"]["email"] == "zoe@lyon.fr"
    assert by_action["update"]["changes"]["last_name"] == {"old": "Lefèvre", "new": "Lefèvre-Dupont"}
    assert {entry["actor_id"] for entry in log} == {me["id"]}


async def test_deleting_a_person_with_history_needs_an_explicit_choice(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    position = await add_position(
        admin_client, person_id=zoe["id"], organisation_id=lyon, title="Maire", kind="elected"
    )
    mandate = (
        await admin_client.post(
            "/api/v1/mandates",
            json={"person_id": zoe["id"], "organisation_id": lyon, "role": "president", "term_start": "2024-01-01"},
        )
    ).json()

    refused = await admin_client.delete(f"/api/v1/people/{zoe['id']}")
    assert refused.status_code == 409
    problem = refused.json()
    assert [p["id"] for p in problem["positions"]] == [position["id"]]
    assert [m["id"] for m in problem["mandates"]] == [mandate["id"]]
    assert (await admin_client.get(f"/api/v1/people/{zoe['id']}")).status_code == 200
    assert (await admin_client.delete(f"/api/v1/people/{zoe['id']}?confirm=yes")).status_code == 400

    assert (await admin_client.delete(f"/api/v1/people/{zoe['id']}?confirm=detach")).status_code == 204
    assert (await admin_client.get(f"/api/v1/people/{zoe['id']}")).status_code == 404
    assert (await admin_client.get(f"/api/v1/positions/{position['id']}")).status_code == 404
    assert (await admin_client.get(f"/api/v1/mandates/{mandate['id']}")).status_code == 404


async def test_roles_viewers_read_editors_write_admins_delete(client: AsyncTestClient[Any], make_staff: Any) -> None:
    assert (await client.get("/api/v1/people")).status_code == 401
    await as_role(client, make_staff, StaffRole.VIEWER)
    assert (await client.get("/api/v1/people")).status_code == 200
    assert (await client.get("/api/v1/positions")).status_code == 200
    assert (await client.post("/api/v1/people", json={"first_name": "A", "last_name": "B"})).status_code == 403

    await as_role(client, make_staff, StaffRole.EDITOR)
    person = await add_person(client, first_name="Zoé", last_name="Lefèvre-Dupont")
    assert (await client.patch(f"/api/v1/people/{person['id']}", json={"phone": "0600000000"})).status_code == 200
    assert (await client.delete(f"/api/v1/people/{person['id']}")).status_code == 403

    await as_role(client, make_staff, StaffRole.ADMIN)
    assert (await client.delete(f"/api/v1/people/{person['id']}")).status_code == 204


async def test_a_position_cannot_end_before_it_starts(admin_client: AsyncTestClient[Any], make_org: MakeOrg) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    backwards = await admin_client.post(
        "/api/v1/positions",
        json={
            "person_id": zoe["id"],
            "organisation_id": lyon,
            "title": "DGS",
            "kind": "staff",
            "started_on": "2024-05-01",
            "ended_on": "2024-04-30",
        },
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "ended_on"
    position = await add_position(
        admin_client, person_id=zoe["id"], organisation_id=lyon, title="DGS", kind="staff", started_on="2024-05-01"
    )
    patched = await admin_client.patch(f"/api/v1/positions/{position['id']}", json={"ended_on": "2023-01-01"})
    assert patched.status_code == 422
    assert patched.json()["errors"][0]["field"] == "ended_on"
    assert (await admin_client.get(f"/api/v1/positions/{position['id']}")).json()["ended_on"] is None
    unknown = await admin_client.post(
        "/api/v1/positions",
        json={"person_id": zoe["id"], "organisation_id": zoe["id"], "title": "DGS", "kind": "staff"},
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "organisation_id"
    bad_kind = await admin_client.post(
        "/api/v1/positions", json={"person_id": zoe["id"], "organisation_id": lyon, "title": "DGS", "kind": "boss"}
    )
    assert bad_kind.status_code in (400, 422)
    assert "kind" in bad_kind.json()["errors"][0]["field"]


async def test_a_commune_has_one_current_maire_and_an_epci_one_president(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    marc = await add_person(admin_client, first_name="Marc", last_name="Leroy")
    mayor = await add_position(
        admin_client, person_id=zoe["id"], organisation_id=lyon, title="Maire", kind="elected", started_on="2020-07-04"
    )
    second = {"person_id": marc["id"], "organisation_id": lyon, "title": "Madame la Maire", "kind": "elected"}
    refused = await admin_client.post("/api/v1/positions", json=second)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "title"
    assert "Zoé Lefèvre-Dupont is Maire of Lyon since 2020-07-04" in refused.json()["detail"]
    # An adjoint is no second maire; a past maire is history, not a second holder.
    adjoint = await add_position(
        admin_client, person_id=marc["id"], organisation_id=lyon, title="Maire adjoint", kind="elected"
    )
    await add_position(
        admin_client, **{**second, "title": "Maire", "started_on": "2008-03-21", "ended_on": "2014-03-28"}
    )
    renamed = await admin_client.patch(f"/api/v1/positions/{adjoint['id']}", json={"title": "Maire"})
    assert renamed.status_code == 409
    ended = await admin_client.patch(f"/api/v1/positions/{mayor['id']}", json={"ended_on": TODAY.isoformat()})
    assert ended.status_code == 200
    assert (await admin_client.post("/api/v1/positions", json=second)).status_code == 201

    created = await admin_client.post("/api/v1/organisations", json={"kind": "epci", "siren": "200066793"})
    assert created.status_code == 201, created.text
    annecy = created.json()["id"]
    await add_position(admin_client, person_id=zoe["id"], organisation_id=annecy, title="Président", kind="elected")
    change = {"organisation_id": annecy, "title": "Présidente", "kind": "elected", "on": TODAY.isoformat()}
    taken = await admin_client.post(f"/api/v1/people/{marc['id']}/job-change", json=change)
    assert taken.status_code == 409, taken.text
    held = (await admin_client.get(f"/api/v1/people/{marc['id']}")).json()["positions"]
    assert sorted(p["title"] for p in held) == ["Madame la Maire", "Maire adjoint"], "a refused change ends nothing"


async def test_positions_filter_by_person_organisation_and_current(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    bastia = await make_org("Bastia", OrganisationKind.COMMUNE, insee_code="2B033")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    jf = await add_person(admin_client, first_name="Jean-François", last_name="d’Arcy")
    old = await add_position(
        admin_client,
        person_id=zoe["id"],
        organisation_id=bastia,
        title="DSI",
        kind="staff",
        started_on="2012-01-01",
        ended_on="2019-12-31",
    )
    now = await add_position(admin_client, person_id=zoe["id"], organisation_id=lyon, title="DGS", kind="staff")
    other = await add_position(admin_client, person_id=jf["id"], organisation_id=lyon, title="Maire", kind="elected")

    async def ids(**params: Any) -> set[str]:
        response = await admin_client.get("/api/v1/positions", params=params)
        assert response.status_code == 200
        return {p["id"] for p in response.json()["items"]}

    assert await ids(person_id=zoe["id"]) == {old["id"], now["id"]}
    assert await ids(organisation_id=lyon) == {now["id"], other["id"]}
    assert await ids(current="true") == {now["id"], other["id"]}
    assert await ids(current="false") == {old["id"]}
    assert await ids(person_id=zoe["id"], current="true") == {now["id"]}
    one = (await admin_client.get(f"/api/v1/positions/{old['id']}")).json()
    assert (one["person_name"], one["organisation_name"], one["is_current"]) == ("Zoé Lefèvre-Dupont", "Bastia", False)


async def test_a_job_change_ends_the_old_position_starts_the_new_and_keeps_history(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    grenoble = await make_org("Grenoble", OrganisationKind.COMMUNE, insee_code="38185")
    villeurbanne = await make_org("Villeurbanne", OrganisationKind.COMMUNE, insee_code="69266")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    dsi = await add_position(
        admin_client, person_id=zoe["id"], organisation_id=lyon, title="DSI", kind="staff", started_on="2018-03-01"
    )
    elected = await add_position(
        admin_client,
        person_id=zoe["id"],
        organisation_id=villeurbanne,
        title="Conseillère municipale",
        kind="elected",
        started_on="2020-07-01",
    )
    on = str(TODAY - timedelta(days=10))

    changed = await admin_client.post(
        f"/api/v1/people/{zoe['id']}/job-change",
        json={"organisation_id": grenoble, "title": "DGS", "kind": "staff", "on": on, "end_current": [dsi["id"]]},
    )
    assert changed.status_code == 201, changed.text
    body = changed.json()
    assert (body["position"]["title"], body["position"]["started_on"], body["position"]["is_current"]) == (
        "DGS",
        on,
        True,
    )
    assert [(p["id"], p["ended_on"]) for p in body["ended"]] == [(dsi["id"], on)]

    person = (await admin_client.get(f"/api/v1/people/{zoe['id']}")).json()
    assert sorted(p["organisation_name"] for p in person["positions"]) == ["Grenoble", "Villeurbanne"]
    history = (await admin_client.get(f"/api/v1/people/{zoe['id']}/positions")).json()
    assert history["total"] == 3
    assert [p["is_current"] for p in history["items"]] == [True, True, False]
    assert history["items"][-1]["id"] == dsi["id"]
    assert elected["id"] in {p["id"] for p in history["items"][:2]}

    # Ending "all": both current positions end, the new one starts.
    again = await admin_client.post(
        f"/api/v1/people/{zoe['id']}/job-change",
        json={"organisation_id": lyon, "title": "Maire", "kind": "elected", "on": str(TODAY), "end_current": "all"},
    )
    assert again.status_code == 201
    assert len(again.json()["ended"]) == 2
    person = (await admin_client.get(f"/api/v1/people/{zoe['id']}")).json()
    assert [(p["title"], p["organisation_name"]) for p in person["positions"]] == [("Maire", "Lyon")]
    assert (await admin_client.get(f"/api/v1/people/{zoe['id']}/positions")).json()["total"] == 4


async def test_a_job_change_naming_a_position_not_held_changes_nothing(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre-Dupont")
    jf = await add_person(admin_client, first_name="Jean-François", last_name="d’Arcy")
    hers = await add_position(admin_client, person_id=zoe["id"], organisation_id=lyon, title="DSI", kind="staff")
    his = await add_position(admin_client, person_id=jf["id"], organisation_id=lyon, title="DGS", kind="staff")
    refused = await admin_client.post(
        f"/api/v1/people/{zoe['id']}/job-change",
        json={
            "organisation_id": lyon,
            "title": "DGS",
            "kind": "staff",
            "on": str(TODAY),
            "end_current": [hers["id"], his["id"]],
        },
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "end_current"
    history = (await admin_client.get(f"/api/v1/people/{zoe['id']}/positions")).json()
    assert [(p["id"], p["ended_on"]) for p in history["items"]] == [(hers["id"], None)]
    missing = await admin_client.post(
        f"/api/v1/people/{lyon}/job-change",
        json={"organisation_id": lyon, "title": "DGS", "kind": "staff", "on": str(TODAY)},
    )
    assert missing.status_code == 404


async def test_a_search_without_sort_puts_the_best_match_first(admin_client: Any) -> None:
    for first, last in (("Martine", "Dupontel"), ("Jean", "Dupont"), ("Luc", "Dupond-Dupontier")):
        response = await admin_client.post("/api/v1/people", json={"first_name": first, "last_name": last})
        assert response.status_code == 201
    found = (await admin_client.get("/api/v1/people", params={"q": "jean dupont"})).json()
    assert [p["last_name"] for p in found["items"]] == ["Dupont"]
    ranked = (await admin_client.get("/api/v1/people", params={"q": "dupont"})).json()["items"]
    assert ranked[0]["last_name"] == "Dupont"
    assert {p["last_name"] for p in ranked} == {"Dupont", "Dupontel", "Dupond-Dupontier"}


async def test_people_sort_by_name_ignoring_accents(admin_client: AsyncTestClient[Any]) -> None:
    for first, last in (("Zoé", "Zola"), ("Émile", "Étienne"), ("Anne", "Durand"), ("Éric", "Fabre")):
        await add_person(admin_client, first_name=first, last_name=last)

    async def order(sort: str, key: str) -> list[str]:
        response = await admin_client.get("/api/v1/people", params={"sort": sort})
        assert response.status_code == 200
        return [p[key] for p in response.json()["items"]]

    assert await order("last_name", "last_name") == ["Durand", "Étienne", "Fabre", "Zola"]
    assert await order("-last_name", "last_name") == ["Zola", "Fabre", "Étienne", "Durand"]
    assert await order("first_name", "first_name") == ["Anne", "Émile", "Éric", "Zoé"]
    assert await order("-first_name", "first_name") == ["Zoé", "Éric", "Émile", "Anne"]


async def test_q_finds_positions_by_person_organisation_or_title(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    lyon = await make_org("Lyon", OrganisationKind.COMMUNE, insee_code="69123")
    nice = await make_org("Nice", OrganisationKind.COMMUNE, insee_code="06088")
    zoe = await add_person(admin_client, first_name="Zoé", last_name="Lefèvre", email="zoe@mairie-lyon.fr")
    jf = await add_person(admin_client, first_name="Jean-François", last_name="d’Arcy")
    await add_position(admin_client, person_id=zoe["id"], organisation_id=lyon, title="Maire", kind="elected")
    await add_position(
        admin_client, person_id=jf["id"], organisation_id=nice, title="Directeur général des services", kind="staff"
    )

    async def found(q: str) -> list[str]:
        response = await admin_client.get("/api/v1/positions", params={"q": q})
        assert response.status_code == 200
        return sorted(f"{i['person_name']}, {i['title']}" for i in response.json()["items"])

    assert await found("lefevre") == ["Zoé Lefèvre, Maire"]
    assert await found("zoe@mairie") == ["Zoé Lefèvre, Maire"]
    assert await found("nice") == ["Jean-François d’Arcy, Directeur général des services"]
    assert await found("general services") == ["Jean-François d’Arcy, Directeur général des services"]
    assert await found("zzzzzz") == []


async def test_search_forgives_apostrophes_inside_names_and_one_wrong_letter(
    admin_client: AsyncTestClient[Any],
) -> None:
    await add_person(admin_client, first_name="Aminata", last_name="N'Diaye")
    await add_person(admin_client, first_name="Yann", last_name="Le Floc’h")
    await add_person(admin_client, first_name="María", last_name="González")
    await add_person(admin_client, first_name="Marie", last_name="Gonzague")

    async def search(q: str) -> list[str]:
        response = await admin_client.get("/api/v1/people", params={"q": q})
        assert response.status_code == 200, response.text
        return [p["last_name"] for p in response.json()["items"]]

    for typed in ("ndiaye", "n diaye", "N'Diaye", "n’diaye", "aminata ndiaye"):
        assert await search(typed) == ["N'Diaye"], typed
    for typed in ("le floch", "floch", "Le Floc'h", "yann le floc h"):
        assert await search(typed) == ["Le Floc’h"], typed
    # Nothing spelled that way: the closest names, one letter off, are offered instead.
    assert await search("gonzales") == ["González"]
    assert await search("maria gonzales") == ["González"]
    # An exact match never brings in near ones.
    assert await search("gonzague") == ["Gonzague"]
    assert await search("zzyzx") == []
    # Past the last page, the total is still the number of matches, exact or near.
    for typed in ("ndiaye", "gonzales"):
        past = (await admin_client.get("/api/v1/people", params={"q": typed, "offset": 5})).json()
        assert (past["items"], past["total"]) == ([], 1), typed
