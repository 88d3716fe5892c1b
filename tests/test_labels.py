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


async def labels_of(client: AsyncTestClient[Any], year: int) -> dict[str, tuple[int, bool]]:
    items = (await client.get(LABELS, params={"year": year, "limit": 100})).json()["items"]
    return {i["organisation_name"]: (i["level"], i["green"]) for i in items}


async def organisation_count(client: AsyncTestClient[Any]) -> int:
    return int((await client.get("/api/v1/organisations")).json()["total"])


async def test_a_years_results_in_one_batch_with_a_dry_run_first(admin_client: AsyncTestClient[Any]) -> None:
    ajaccio = await organisation(admin_client, kind="commune", insee_code="2A004")
    bastia = await organisation(admin_client, kind="commune", insee_code="2B033")
    assert (await award(admin_client, ajaccio, 2024, 2)).status_code == 201
    assert (await award(admin_client, bastia, 2024, 3)).status_code == 201
    batch = {
        "year": 2024,
        "results": [
            {"code": "2a004", "level": 3, "green": True},  # changed
            {"code": "2B033", "level": 3},  # the same
            {"code": "1053", "level": 2},  # Bourg-en-Bresse, not in the CRM yet
            {"code": "242010056", "level": 1},  # an EPCI by SIREN, not in the CRM yet
        ],
    }
    before = await organisation_count(admin_client)

    dry = await admin_client.post(f"{LABELS}/results", json={**batch, "dry_run": True})
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert (report["created"], report["updated"], report["unchanged"], report["organisations_created"]) == (2, 1, 1, 2)
    assert [(r["code"], r["outcome"]) for r in report["rows"]] == [
        ("2A004", "updated"),
        ("2B033", "unchanged"),
        ("01053", "created"),
        ("242010056", "created"),
    ]
    assert report["rows"][2]["name"] == "Bourg-en-Bresse"
    assert report["rows"][2]["organisation_id"] is None
    # Nothing written.
    assert await labels_of(admin_client, 2024) == {"Ajaccio": (2, False), "Bastia": (3, False)}
    assert await organisation_count(admin_client) == before

    applied = await admin_client.post(f"{LABELS}/results", json=batch)
    assert applied.status_code == 200, applied.text
    assert applied.json()["dry_run"] is False
    labels = await labels_of(admin_client, 2024)
    assert labels["Ajaccio"] == (3, True)
    assert labels["Bastia"] == (3, False)
    assert labels["Bourg-en-Bresse"] == (2, False)
    assert len(labels) == 4
    assert await organisation_count(admin_client) == before + 2

    again = (await admin_client.post(f"{LABELS}/results", json=batch)).json()
    assert (again["created"], again["updated"], again["unchanged"], again["organisations_created"]) == (0, 0, 4, 0)


async def test_one_bad_row_refuses_the_whole_batch_naming_each_row(admin_client: AsyncTestClient[Any]) -> None:
    await organisation(admin_client, kind="region", region_code="94")
    await organisation(admin_client, kind="association", name="Les Amis", siren="732829320")
    refused = await admin_client.post(
        f"{LABELS}/results",
        json={
            "year": 2019,
            "results": [
                {"code": "2A004", "level": 3},
                {"code": "99999", "level": 2},
                {"code": "2a004", "level": 1},
                {"code": "2B033", "level": 4, "green": True},
                {"code": "732829320", "level": 4},
                {"code": "20004", "level": 1},
            ],
        },
    )
    assert refused.status_code == 422, refused.text
    assert fields(refused) == {
        "results.1.code",
        "results.2.code",
        "results.3.green",
        "results.4.code",
        "results.5.code",
    }
    assert await labels_of(admin_client, 2019) == {}
    assert await organisation_count(admin_client) == 2

    for bad in (
        {"year": 2024, "results": []},
        {"year": 2024, "results": [{"code": "2A004", "level": 6}]},
        {"year": 2024, "results": [{"code": "x" * 21, "level": 1}]},
        {"year": 2024, "results": [{"code": "2A004", "level": 1}] * 5001},
        {"year": 1999, "results": [{"code": "2A004", "level": 1}]},
    ):
        response = await admin_client.post(f"{LABELS}/results", json=bad)
        assert response.status_code in (400, 422), response.text
    ahead = await admin_client.post(
        f"{LABELS}/results", json={"year": date.today().year + 2, "results": [{"code": "2A004", "level": 1}]}
    )
    assert ahead.status_code == 422
    assert fields(ahead) == {"year"}


async def test_results_from_a_french_excel_file(admin_client: AsyncTestClient[Any]) -> None:
    content = (
        "Nom;Code INSEE;Niveau;Arobase verte\r\n"
        "Ajaccio;2A004;@@@@;oui\r\n"
        "Bourg-en-Bresse;1053;2 @;\r\n"
        ";;;\r\n"
        "Bastia;2B033;5;non\r\n"
    ).encode("windows-1252")
    dry = await admin_client.post(
        f"{LABELS}/results/csv",
        params={"year": 2025, "dry_run": "true"},
        files={"file": ("palmarès.csv", content, "text/csv")},
    )
    assert dry.status_code == 200, dry.text
    assert [(r["line"], r["name"], r["level"], r["green"]) for r in dry.json()["rows"]] == [
        (2, "Ajaccio", 4, True),
        (3, "Bourg-en-Bresse", 2, False),
        (5, "Bastia", 5, False),
    ]
    assert await labels_of(admin_client, 2025) == {}
    applied = await admin_client.post(
        f"{LABELS}/results/csv", params={"year": 2025}, files={"file": ("palmarès.csv", content, "text/csv")}
    )
    assert applied.status_code == 200, applied.text
    assert await labels_of(admin_client, 2025) == {
        "Ajaccio": (4, True),
        "Bourg-en-Bresse": (2, False),
        "Bastia": (5, False),
    }

    bad = await admin_client.post(
        f"{LABELS}/results/csv",
        params={"year": 2025},
        files={"file": ("r.csv", b"code;niveau\n2A004;7\n2B033;3\n98765;2\n", "text/csv")},
    )
    assert bad.status_code == 422
    assert fields(bad) == {"file"}
    assert "line 2" in bad.json()["errors"][0]["detail"]
    no_level = await admin_client.post(
        f"{LABELS}/results/csv", params={"year": 2025}, files={"file": ("r.csv", b"code;nom\n2A004;x\n", "text/csv")}
    )
    assert no_level.status_code == 422
    assert "level" in no_level.json()["errors"][0]["detail"]


async def test_the_palmares_as_csv_and_as_a_public_page(admin_client: AsyncTestClient[Any]) -> None:
    year = date.today().year
    batch = {
        "year": year,
        "results": [
            {"code": "2A004", "level": 5, "green": True},
            {"code": "2B033", "level": 3},
            {"code": "42218", "level": 3},
            {"code": "242010056", "level": 1},
        ],
    }
    assert (await admin_client.post(f"{LABELS}/results", json=batch)).status_code == 200

    exported = await admin_client.get(f"{LABELS}/palmares.csv", params={"year": year})
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.content.startswith(b"\xef\xbb\xbf")
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "year;level;green;name;kind;insee_code;siren;departement_code;population"
    assert lines[1].startswith(f"{year};5;oui;Ajaccio;commune;2A004;")
    assert [line.split(";")[3] for line in lines[1:]] == ["Ajaccio", "Bastia", "Saint-Étienne", lines[4].split(";")[3]]
    # The file goes back in as the year's results: nothing changes.
    back = await admin_client.post(
        f"{LABELS}/results/csv",
        params={"year": year, "dry_run": "true"},
        files={"file": ("palmares.csv", exported.content, "text/csv")},
    )
    assert back.status_code == 200, back.text
    assert back.json()["unchanged"] == 4
    audit = (await admin_client.get("/api/v1/audit-log", params={"action": "export"})).json()
    assert any(e["entity_type"] == "label_award" for e in audit["items"])

    # The public page: the staff cookie means nothing outside /api.
    public = await admin_client.get(f"/palmares/{year}")
    assert public.status_code == 200
    assert public.headers["content-type"].startswith("text/html")
    html = public.text
    assert f"Palmarès {year}" in html
    assert html.index("Ajaccio") < html.index("Bastia") < html.index("Saint-Étienne")
    assert "arobase verte" in html
    assert "<script" not in html
    assert (await admin_client.get(f"/palmares/{year + 1}")).status_code == 404
    assert (await admin_client.get("/palmares/2003")).status_code == 404


async def test_a_name_that_reads_as_a_formula_is_escaped_once_in_the_palmares(
    admin_client: AsyncTestClient[Any],
) -> None:
    year = date.today().year
    batch = {"year": year, "results": [{"code": "2A004", "level": 2}]}
    assert (await admin_client.post(f"{LABELS}/results", json=batch)).status_code == 200
    ajaccio = (await admin_client.get("/api/v1/organisations", params={"q": "ajaccio"})).json()["items"][0]
    renamed = await admin_client.patch(f"/api/v1/organisations/{ajaccio['id']}", json={"name": "=HYPERLINK(1)"})
    assert renamed.status_code == 200, renamed.text

    exported = await admin_client.get(f"{LABELS}/palmares.csv", params={"year": year})
    name = exported.content.decode("utf-8-sig").splitlines()[1].split(";")[3]
    assert name == "'=HYPERLINK(1)"
