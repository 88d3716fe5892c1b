"""Segments: and / or / not over the CRM, counted live, with a sample, through current positions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from crm.db.models.board import BoardRole, Mandate
from crm.db.models.label import LabelAward
from crm.db.models.lists import SubscriptionStatus
from crm.db.models.membership import Membership, MembershipStatus
from crm.db.models.organisation import Organisation, OrganisationKind
from crm.db.models.person import Person, Position, PositionKind
from crm.db.models.staff import StaffRole
from crm.db.models.tag import Tag, Tagging
from tests.conftest import log_in
from tests.mailing_helpers import add, make_list, subscribe

TODAY = date.today()


async def org(
    engine: AsyncEngine,
    name: str,
    kind: OrganisationKind,
    region: str,
    departement: str,
    population: int | None,
    status: MembershipStatus | None = None,
    insee: str | None = None,
    siren: str | None = None,
) -> UUID:
    organisation = Organisation(
        name=name,
        kind=kind,
        region_code=region,
        departement_code=departement,
        population=population,
        insee_code=insee,
        siren=siren,
    )
    (org_id,) = await add(engine, organisation)
    if status is not None:
        await add(engine, Membership(organisation_id=org_id, status=status))
    return org_id


async def person(
    engine: AsyncEngine,
    first: str,
    last: str,
    organisation_id: UUID | None = None,
    title: str = "Chargé de mission",
    kind: PositionKind = PositionKind.STAFF,
    ended_on: date | None = None,
) -> UUID:
    (pid,) = await add(engine, Person(first_name=first, last_name=last, email=f"{first}.{last}@example.fr".lower()))
    if organisation_id is not None:
        await add(
            engine, Position(person_id=pid, organisation_id=organisation_id, title=title, kind=kind, ended_on=ended_on)
        )
    return pid


async def world(engine: AsyncEngine) -> dict[str, Any]:
    """A small network: Corsica (94), Île-de-France (11), Auvergne-Rhône-Alpes (84)."""
    ajaccio = await org(
        engine, "Ajaccio", OrganisationKind.COMMUNE, "94", "2A", 71_000, MembershipStatus.ACTIVE, "2A004"
    )
    bastia = await org(engine, "Bastia", OrganisationKind.COMMUNE, "94", "2B", 48_000, MembershipStatus.LAPSED, "2B033")
    lyon = await org(
        engine,
        "Métropole de Lyon",
        OrganisationKind.EPCI,
        "84",
        "69",
        1_400_000,
        MembershipStatus.ACTIVE,
        siren="200046977",
    )
    paris_asso = await org(engine, "Association francilienne", OrganisationKind.ASSOCIATION, "11", "75", None)
    await add(engine, LabelAward(organisation_id=ajaccio, year=2025, level=4, green=True))
    await add(engine, LabelAward(organisation_id=bastia, year=2025, level=2, green=False))
    people = {
        "maire_ajaccio": await person(engine, "Stéphane", "Sbraggia", ajaccio, "Maire", PositionKind.ELECTED),
        "dsi_ajaccio": await person(engine, "Léa", "Casanova", ajaccio, "Directrice des systèmes d’information"),
        "dgs_bastia": await person(engine, "Paul", "Orsini", bastia, "Directeur général des services"),
        "vp_lyon": await person(engine, "Zoé", "Morel", lyon, "Vice-présidente au numérique", PositionKind.ELECTED),
        "ancien_lyon": await person(
            engine, "Marc", "Petit", lyon, "Maire", PositionKind.ELECTED, TODAY - timedelta(days=30)
        ),
        "asso": await person(engine, "Inès", "Durand", paris_asso, "Chargée de communication"),
        "sans_poste": await person(engine, "Hugo", "Lemaire"),
    }
    # A position ending in the future is still current.
    await add(
        engine,
        Position(
            person_id=people["sans_poste"],
            organisation_id=paris_asso,
            title="Stagiaire",
            kind=PositionKind.STAFF,
            ended_on=TODAY + timedelta(days=10),
        ),
    )
    await add(
        engine,
        Mandate(
            person_id=people["vp_lyon"],
            organisation_id=lyon,
            role=BoardRole.TREASURER,
            term_start=TODAY - timedelta(days=400),
        ),
        Mandate(
            person_id=people["dgs_bastia"],
            organisation_id=bastia,
            role=BoardRole.MEMBER,
            term_start=TODAY - timedelta(days=900),
            term_end=TODAY - timedelta(days=100),
        ),
    )
    (smart,) = await add(engine, Tag(name="ville intelligente"))
    await add(
        engine,
        Tagging(tag_id=smart, entity_type="organisation", entity_id=lyon),
        Tagging(tag_id=smart, entity_type="person", entity_id=people["asso"]),
    )
    news = await make_list(engine, "lettre")
    await subscribe(engine, people["dsi_ajaccio"], news)
    await subscribe(engine, people["asso"], news, SubscriptionStatus.PENDING)
    return {"people": people, "list": news, "tag": smart}


async def preview(client: Any, definition: dict[str, Any]) -> set[str]:
    response = await client.post("/api/v1/segments/preview", json={"definition": definition})
    assert response.status_code == 200, response.text
    body = response.json()
    names = {item["name"] for item in body["sample"]}
    assert body["count"] == len(names)  # small worlds fit in the sample
    return names


async def test_rules_and_combinations(client: Any, make_staff: Any, engine: AsyncEngine) -> None:
    w = await world(engine)
    await log_in(client, (await make_staff(StaffRole.VIEWER)).email)

    corsica = {"field": "region_code", "op": "eq", "value": "94"}
    assert await preview(client, corsica) == {"Stéphane Sbraggia", "Léa Casanova", "Paul Orsini"}
    assert await preview(client, {"field": "departement_code", "op": "in", "value": ["2b", "69"]}) == {
        "Paul Orsini",
        "Zoé Morel",
    }
    # and / not: Corsica without lapsed members.
    not_lapsed = {"not": {"field": "membership_status", "op": "eq", "value": "lapsed"}}
    assert await preview(client, {"all": [corsica, not_lapsed]}) == {"Stéphane Sbraggia", "Léa Casanova"}
    # or
    either = {
        "any": [
            {"field": "organisation_kind", "op": "eq", "value": "epci"},
            {"field": "region_code", "op": "in", "value": ["11"]},
        ]
    }
    assert await preview(client, either) == {"Zoé Morel", "Inès Durand", "Hugo Lemaire"}
    # nested: (Corsica or Lyon region) and elected
    nested = {
        "all": [
            {"any": [corsica, {"field": "region_code", "op": "eq", "value": "84"}]},
            {"field": "elected", "op": "eq", "value": True},
        ]
    }
    assert await preview(client, nested) == {"Stéphane Sbraggia", "Zoé Morel"}
    assert await preview(
        client, {"field": "population", "op": "between", "value": {"min": 50_000, "max": 2_000_000}}
    ) == {
        "Stéphane Sbraggia",
        "Léa Casanova",
        "Zoé Morel",
    }
    assert await preview(client, {"field": "population", "op": "lte", "value": 50_000}) == {"Paul Orsini"}
    assert await preview(
        client, {"field": "label", "op": "has", "value": {"year": 2025, "min_level": 3, "green": True}}
    ) == {
        "Stéphane Sbraggia",
        "Léa Casanova",
    }
    assert await preview(client, {"field": "label", "op": "has", "value": {"year": 2025, "min_level": 2}}) == {
        "Stéphane Sbraggia",
        "Léa Casanova",
        "Paul Orsini",
    }
    # accent- and case-insensitive on current titles
    assert await preview(client, {"field": "position_title", "op": "contains", "value": "systemes d'INFORMATION"}) == {
        "Léa Casanova"
    }
    assert await preview(client, {"field": "position_title", "op": "contains", "value": "numérique"}) == {"Zoé Morel"}
    assert await preview(client, {"field": "board_member", "op": "eq", "value": True}) == {"Zoé Morel"}
    assert await preview(client, {"field": "list", "op": "eq", "value": str(w["list"])}) == {"Léa Casanova"}
    # a tag on the person, or on the organisation of a current position; by name or id
    tagged = {"Zoé Morel", "Inès Durand"}
    assert await preview(client, {"field": "tag", "op": "eq", "value": "ville intelligente"}) == tagged
    assert await preview(client, {"field": "tag", "op": "in", "value": [str(w["tag"])]}) == tagged
    # not alone: everyone else, including people with no position at all
    everyone = await preview(client, {"not": {"field": "elected", "op": "eq", "value": True}})
    assert "Marc Petit" in everyone  # his only position has ended
    assert "Zoé Morel" not in everyone


async def test_a_past_position_does_not_count(client: Any, make_staff: Any, engine: AsyncEngine) -> None:
    await world(engine)
    await log_in(client, (await make_staff(StaffRole.VIEWER)).email)
    names = await preview(client, {"field": "region_code", "op": "eq", "value": "84"})
    assert names == {"Zoé Morel"}
    # A position ending in the future still counts.
    assert "Hugo Lemaire" in await preview(client, {"field": "region_code", "op": "eq", "value": "11"})


async def test_saved_segment_preview_and_sample(client: Any, make_staff: Any, engine: AsyncEngine) -> None:
    await world(engine)
    # More people than the sample holds.
    big = await org(engine, "Grande ville", OrganisationKind.COMMUNE, "93", "13", 800_000, insee="13055")
    for i in range(12):
        await person(engine, f"Agent{i:02d}", "Marseille", big)
    viewer = await make_staff(StaffRole.VIEWER)
    editor = await make_staff(StaffRole.EDITOR)
    await log_in(client, viewer.email)
    definition = {"field": "region_code", "op": "eq", "value": "93"}
    assert (await client.post("/api/v1/segments", json={"name": "Sud", "definition": definition})).status_code == 403

    await log_in(client, editor.email)
    created = await client.post("/api/v1/segments", json={"name": "Région Sud", "definition": definition})
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["definition"] == definition
    dup = await client.post("/api/v1/segments", json={"name": "Région Sud", "definition": definition})
    assert dup.status_code == 409

    body = (await client.get(f"/api/v1/segments/{segment['id']}/preview")).json()
    assert body["count"] == 12
    assert len(body["sample"]) == 10
    first = body["sample"][0]
    assert first["organisation"] == "Grande ville"
    assert first["email"].endswith("@example.fr")
    assert set(first) == {"id", "name", "email", "organisation"}

    changed = await client.patch(
        f"/api/v1/segments/{segment['id']}",
        json={"definition": {"all": [definition, {"field": "position_title", "op": "contains", "value": "zzz"}]}},
    )
    assert changed.status_code == 200
    assert (await client.get(f"/api/v1/segments/{segment['id']}/preview")).json()["count"] == 0
    assert (await client.get("/api/v1/segments", params={"q": "sud"})).json()["total"] == 1
    assert (await client.delete(f"/api/v1/segments/{segment['id']}")).status_code == 403


async def test_invalid_definitions_name_the_place(client: Any, make_staff: Any, engine: AsyncEngine) -> None:
    await log_in(client, (await make_staff(StaffRole.EDITOR)).email)
    cases = [
        (
            {
                "all": [
                    {"field": "region_code", "op": "eq", "value": "84"},
                    {"field": "shoe_size", "op": "eq", "value": 4},
                ]
            },
            "definition.all[1].field",
        ),
        ({"all": [{"not": {"field": "region_code", "op": "gte", "value": "84"}}]}, "definition.all[0].not.op"),
        ({"any": []}, "definition.any"),
        ({"field": "population", "op": "gte", "value": "beaucoup"}, "definition.value"),
        ({"field": "membership_status", "op": "in", "value": ["active", "zombie"]}, "definition.value[1]"),
        ({"field": "list", "op": "eq", "value": "not-a-uuid"}, "definition.value"),
        ({"field": "label", "op": "has", "value": {"min_level": 9}}, "definition.value.min_level"),
        ({"all": [{"field": "elected", "op": "eq"}]}, "definition.all[0].value"),
        ({"all": [], "any": []}, "definition"),
    ]
    for definition, field in cases:
        response = await client.post("/api/v1/segments", json={"name": "x", "definition": definition})
        assert response.status_code == 422, (definition, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == field, (definition, response.json())
        preview_response = await client.post("/api/v1/segments/preview", json={"definition": definition})
        assert preview_response.status_code == 422
    assert (await client.get("/api/v1/segments")).json()["total"] == 0
