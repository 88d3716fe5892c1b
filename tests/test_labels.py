from __future__ import annotations

from datetime import date
from typing import Any

from litestar.testing import AsyncTestClient

from crm.db.models.staff import StaffRole
from tests.conftest import log_in

LABELS = "/api/v1/labels"


async def organisation(client: AsyncTestClient[Any], **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/organisations", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def award(client: AsyncTestClient[Any], org: dict[str, Any], year: int, level: int, green: bool = False) -> Any:
    return await client.post(LABELS, json={"organisation_id": org["id"], "year": year, "level": level, "green": green})


def fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


async def test_a_city_gets_one_label_a_year(admin_client: AsyncTestClient[Any]) -> None:
    ajaccio = await organisation(admin_client, kind="commune", insee_code="2A004")
    created = await award(admin_client, ajaccio, 2025, 4, green=True)
    assert created.status_code == 201
    label = created.json()
    assert (label["organisation_name"], label["year"], label["level"], label["green"]) == ("Ajaccio", 2025, 4, True)
    again = await award(admin_client, ajaccio, 2025, 5)
    assert again.status_code == 409
    assert fields(again) == {"year"}
    # The organisation shows its latest label.
    org = (await admin_client.get(f"/api/v1/organisations/{ajaccio['id']}")).json()
    assert org["latest_label"] == {"year": 2025, "level": 4, "green": True}


async def test_level_must_be_one_to_five_and_only_cities_and_epci_are_labelled(
    admin_client: AsyncTestClient[Any],
) -> None:
    bastia = await organisation(admin_client, kind="commune", insee_code="2B033")
    for level in (0, 6):
        refused = await award(admin_client, bastia, 2025, level)
        assert refused.status_code in (400, 422)
        assert fields(refused) == {"level"}
    region = await organisation(admin_client, kind="region", region_code="94")
    not_a_city = await award(admin_client, region, 2025, 3)
    assert not_a_city.status_code == 422
    assert fields(not_a_city) == {"organisation_id"}
    epci = await organisation(admin_client, kind="epci", siren="242010056")
    assert (await award(admin_client, epci, 2025, 2)).status_code == 201
    unknown = await admin_client.post(
        LABELS, json={"organisation_id": "01930000-0000-7000-8000-000000000000", "year": 2025, "level": 1}
    )
    assert unknown.status_code == 422
    assert fields(unknown) == {"organisation_id"}
    assert (await admin_client.get(LABELS)).json()["total"] == 1


async def test_change_filter_and_withdraw_labels(admin_client: AsyncTestClient[Any]) -> None:
    ajaccio = await organisation(admin_client, kind="commune", insee_code="2A004")
    bastia = await organisation(admin_client, kind="commune", insee_code="2B033")
    first = (await award(admin_client, ajaccio, 2024, 3)).json()
    await award(admin_client, ajaccio, 2025, 4, green=True)
    await award(admin_client, bastia, 2025, 4)

    changed = await admin_client.patch(f"{LABELS}/{first['id']}", json={"level": 5})
    assert changed.status_code == 200
    assert changed.json()["level"] == 5
    clash = await admin_client.patch(f"{LABELS}/{first['id']}", json={"year": 2025})
    assert clash.status_code == 409
    bad = await admin_client.patch(f"{LABELS}/{first['id']}", json={"level": 9})
    assert fields(bad) == {"level"}

    async def listed(**params: Any) -> list[tuple[str, int]]:
        items = (await admin_client.get(LABELS, params={"sort": "year", **params})).json()["items"]
        return sorted((i["organisation_name"], i["year"]) for i in items)

    assert await listed(year=2025) == [("Ajaccio", 2025), ("Bastia", 2025)]
    assert await listed(level=5) == [("Ajaccio", 2024)]
    assert await listed(green="true") == [("Ajaccio", 2025)]
    assert await listed(organisation_id=bastia["id"]) == [("Bastia", 2025)]

    history = (await admin_client.get(f"/api/v1/organisations/{ajaccio['id']}/labels")).json()
    assert [(i["year"], i["level"]) for i in history["items"]] == [(2025, 4), (2024, 5)]
    missing = await admin_client.get("/api/v1/organisations/01930000-0000-7000-8000-000000000000/labels")
    assert missing.status_code == 404

    assert (await admin_client.delete(f"{LABELS}/{first['id']}")).status_code == 204
    assert await listed(organisation_id=ajaccio["id"]) == [("Ajaccio", 2025)]


async def test_the_palmares_of_a_year(admin_client: AsyncTestClient[Any]) -> None:
    ajaccio = await organisation(admin_client, kind="commune", insee_code="2A004")
    bastia = await organisation(admin_client, kind="commune", insee_code="2B033")
    etienne = await organisation(admin_client, kind="commune", insee_code="42218")
    reunion = await organisation(admin_client, kind="commune", insee_code="97411")
    bourg = await organisation(admin_client, kind="commune", insee_code="01053")
    await award(admin_client, bastia, 2025, 4)
    await award(admin_client, reunion, 2025, 5, green=True)
    await award(admin_client, etienne, 2025, 4, green=True)
    await award(admin_client, ajaccio, 2025, 2)
    await award(admin_client, bourg, 2024, 5)  # another year

    response = await admin_client.get(f"{LABELS}/palmares", params={"year": 2025})
    assert response.status_code == 200
    palmares = response.json()
    assert palmares["year"] == 2025
    assert palmares["total"] == 4
    assert [(i["name"], i["level"]) for i in palmares["items"]] == [
        ("Saint-Denis", 5),
        ("Bastia", 4),
        ("Saint-Étienne", 4),
        ("Ajaccio", 2),
    ]
    assert palmares["by_level"] == {"1": 0, "2": 1, "3": 0, "4": 2, "5": 1}
    assert palmares["green"] == 2
    assert palmares["items"][0]["insee_code"] == "97411"
    empty = (await admin_client.get(f"{LABELS}/palmares", params={"year": 2010})).json()
    assert (empty["total"], empty["items"]) == (0, [])
    assert (await admin_client.get(f"{LABELS}/palmares")).status_code == 400


async def test_viewers_read_editors_award_admins_withdraw(client: AsyncTestClient[Any], make_staff: Any) -> None:
    editor = await make_staff(StaffRole.EDITOR)
    await log_in(client, editor.email)
    ajaccio = await organisation(client, kind="commune", insee_code="2A004")
    label = (await award(client, ajaccio, 2025, 3)).json()
    assert (await client.delete(f"{LABELS}/{label['id']}")).status_code == 403

    viewer = await make_staff(StaffRole.VIEWER)
    await log_in(client, viewer.email)
    assert (await client.get(LABELS)).json()["total"] == 1
    assert (await client.get(f"{LABELS}/palmares", params={"year": 2025})).status_code == 200
    assert (await award(client, ajaccio, 2024, 3)).status_code == 403
    assert (await client.patch(f"{LABELS}/{label['id']}", json={"level": 4})).status_code == 403

    admin = await make_staff(StaffRole.ADMIN)
    await log_in(client, admin.email)
    assert (await client.delete(f"{LABELS}/{label['id']}")).status_code == 204


async def test_q_finds_labels_by_the_city_name_or_code(admin_client: AsyncTestClient[Any]) -> None:
    ajaccio = await organisation(admin_client, kind="commune", insee_code="2A004")
    bastia = await organisation(admin_client, kind="commune", insee_code="2B033")
    for org in (ajaccio, bastia):
        assert (await award(admin_client, org, 2024, 3)).status_code == 201

    async def found(q: str) -> list[str]:
        response = await admin_client.get(LABELS, params={"q": q})
        assert response.status_code == 200
        return sorted(i["organisation_name"] for i in response.json()["items"])

    assert await found("ajac") == ["Ajaccio"]
    assert await found("2B033") == ["Bastia"]
    assert await found("zzzzzz") == []


async def test_no_green_label_before_2021_and_no_label_years_ahead(admin_client: AsyncTestClient[Any]) -> None:
    corte = await organisation(admin_client, kind="commune", insee_code="2B096")
    too_early = await award(admin_client, corte, 2020, 3, green=True)
    assert too_early.status_code == 422
    assert fields(too_early) == {"green"}
    plain = await award(admin_client, corte, 2020, 3)
    assert plain.status_code == 201
    made_green = await admin_client.patch(f"{LABELS}/{plain.json()['id']}", json={"green": True})
    assert made_green.status_code == 422
    assert fields(made_green) == {"green"}
    green = await award(admin_client, corte, 2021, 3, green=True)
    assert green.status_code == 201
    moved_back = await admin_client.patch(f"{LABELS}/{green.json()['id']}", json={"year": 2019})
    assert moved_back.status_code == 422
    assert fields(moved_back) == {"green"}

    next_year = date.today().year + 1
    assert (await award(admin_client, corte, next_year, 4)).status_code == 201
    too_far = await award(admin_client, corte, next_year + 1, 4)
    assert too_far.status_code == 422
    assert fields(too_far) == {"year"}
    # Nothing refused was stored or changed.
    labels = (await admin_client.get(LABELS, params={"sort": "year"})).json()["items"]
    assert [(i["year"], i["green"]) for i in labels] == [(2020, False), (2021, True), (next_year, False)]
