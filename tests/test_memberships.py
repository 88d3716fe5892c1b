from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from litestar.testing import AsyncTestClient

from crm.db.models.staff import StaffRole
from tests.conftest import log_in

MEMBERSHIPS = "/api/v1/memberships"
BANDS = "/api/v1/fee-bands"
DUES = "/api/v1/dues"


async def organisation(client: AsyncTestClient[Any], **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/organisations", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def commune(client: AsyncTestClient[Any], insee_code: str) -> dict[str, Any]:
    return await organisation(client, kind="commune", insee_code=insee_code)


async def member(client: AsyncTestClient[Any], org: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = await client.post(MEMBERSHIPS, json={"organisation_id": org["id"], **body})
    assert response.status_code == 201, response.text
    return response.json()


async def schedule(client: AsyncTestClient[Any], year: int) -> None:
    """A fee schedule: under 50,000 people 450 €, to 100,000 900 €, above 1,500 €."""
    for band in (
        {"min_population": 0, "max_population": 50000, "amount": "450.00", "label": "moins de 50 000"},
        {"min_population": 50000, "max_population": 100000, "amount": "900", "label": "50 000 à 100 000"},
        {"min_population": 100000, "amount": 1500.5, "label": "plus de 100 000"},
    ):
        response = await client.post(BANDS, json={"year": year, **band})
        assert response.status_code == 201, response.text


def fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


async def test_a_membership_keeps_the_history_of_its_status(admin_client: AsyncTestClient[Any]) -> None:
    ajaccio = await commune(admin_client, "2A004")
    membership = await member(admin_client, ajaccio, note="Contact au congrès", changed_on="2023-11-02")
    assert membership["status"] == "prospect"
    assert membership["organisation_name"] == "Ajaccio"
    url = f"{MEMBERSHIPS}/{membership['id']}"

    joined = await admin_client.patch(
        url, json={"status": "active", "changed_on": "2024-01-15", "note": "Délibération"}
    )
    assert joined.status_code == 200
    assert joined.json()["member_since"] == "2024-01-15"
    resigned = (await admin_client.patch(url, json={"status": "resigned"})).json()
    assert resigned["ended_on"] == date.today().isoformat()
    assert resigned["member_since"] == "2024-01-15"
    # Changing notes only is not a status change.
    await admin_client.patch(url, json={"notes": "Relancer en 2027"})

    history = (await admin_client.get(f"{url}/history")).json()
    assert [(h["status"], h["note"]) for h in history] == [
        ("prospect", "Contact au congrès"),
        ("active", "Délibération"),
        ("resigned", None),
    ]
    assert history[1]["changed_on"] == "2024-01-15"

    org = (await admin_client.get(f"/api/v1/organisations/{ajaccio['id']}")).json()
    assert (org["membership_status"], org["member_since"]) == ("resigned", "2024-01-15")


async def test_one_membership_per_organisation_and_sane_dates(admin_client: AsyncTestClient[Any]) -> None:
    bastia = await commune(admin_client, "2B033")
    await member(admin_client, bastia, status="active", member_since="2020-03-01")
    twice = await admin_client.post(MEMBERSHIPS, json={"organisation_id": bastia["id"]})
    assert twice.status_code == 409
    assert fields(twice) == {"organisation_id"}
    reunion = await commune(admin_client, "97411")
    backwards = await admin_client.post(
        MEMBERSHIPS, json={"organisation_id": reunion["id"], "member_since": "2024-01-01", "ended_on": "2023-01-01"}
    )
    assert backwards.status_code == 422
    assert fields(backwards) == {"ended_on"}
    bad_status = await admin_client.post(MEMBERSHIPS, json={"organisation_id": reunion["id"], "status": "honoraire"})
    assert bad_status.status_code in (400, 422)
    assert "status" in fields(bad_status)
    assert (await admin_client.get(MEMBERSHIPS)).json()["total"] == 1


async def test_memberships_filter_by_status_and_organisation(admin_client: AsyncTestClient[Any]) -> None:
    ajaccio, bastia = await commune(admin_client, "2A004"), await commune(admin_client, "2B033")
    await member(admin_client, ajaccio, status="active")
    await member(admin_client, bastia, status="lapsed")
    active = (await admin_client.get(MEMBERSHIPS, params={"status": "active"})).json()
    assert [m["organisation_name"] for m in active["items"]] == ["Ajaccio"]
    of_bastia = (await admin_client.get(MEMBERSHIPS, params={"organisation_id": bastia["id"]})).json()
    assert [m["status"] for m in of_bastia["items"]] == ["lapsed"]
    assert of_bastia["items"][0]["ended_on"] == date.today().isoformat()


async def test_fee_bands_of_a_year_may_not_overlap(admin_client: AsyncTestClient[Any]) -> None:
    await schedule(admin_client, 2026)
    overlapping = await admin_client.post(
        BANDS, json={"year": 2026, "min_population": 80000, "max_population": 120000, "amount": "1000"}
    )
    assert overlapping.status_code == 409
    assert "min_population" in fields(overlapping)
    reversed_band = await admin_client.post(
        BANDS, json={"year": 2027, "min_population": 5000, "max_population": 5000, "amount": "10"}
    )
    assert reversed_band.status_code == 422
    assert fields(reversed_band) == {"max_population"}
    negative = await admin_client.post(BANDS, json={"year": 2027, "amount": "-1"})
    assert fields(negative) == {"amount"}
    # Another year is another schedule.
    assert (await admin_client.post(BANDS, json={"year": 2027, "amount": "300"})).status_code == 201

    bands = (await admin_client.get(BANDS, params={"year": 2026})).json()["items"]
    assert [(b["min_population"], b["max_population"], Decimal(b["amount"])) for b in bands] == [
        (0, 50000, Decimal("450")),
        (50000, 100000, Decimal("900")),
        (100000, None, Decimal("1500.50")),
    ]
    middle = bands[1]
    widened = await admin_client.patch(f"{BANDS}/{middle['id']}", json={"max_population": 150000})
    assert widened.status_code == 409
    moved = await admin_client.patch(f"{BANDS}/{middle['id']}", json={"amount": "950.00", "label": "moyennes"})
    assert moved.status_code == 200
    assert Decimal(moved.json()["amount"]) == Decimal("950")
    assert (await admin_client.delete(f"{BANDS}/{bands[2]['id']}")).status_code == 204
    assert (await admin_client.get(BANDS, params={"year": 2026})).json()["total"] == 2


async def test_dues_are_computed_from_the_fee_schedule(admin_client: AsyncTestClient[Any]) -> None:
    await schedule(admin_client, 2026)
    bastia = await commune(admin_client, "2B033")  # 45,715 people
    ajaccio = await commune(admin_client, "2A004")  # 70,659 people
    reunion = await commune(admin_client, "97411")  # 147,931 people

    async def invoice(org: dict[str, Any], **body: Any) -> Any:
        return await admin_client.post(DUES, json={"organisation_id": org["id"], "year": 2026, **body})

    bastia_dues = (await invoice(bastia)).json()
    assert (Decimal(bastia_dues["amount"]), bastia_dues["status"]) == (Decimal("450"), "invoiced")
    assert bastia_dues["invoiced_on"] == date.today().isoformat()
    assert Decimal((await invoice(ajaccio)).json()["amount"]) == Decimal("900")
    assert Decimal((await invoice(reunion, amount="1200.00")).json()["amount"]) == Decimal("1200")
    twice = await invoice(bastia)
    assert twice.status_code == 409
    assert fields(twice) == {"year"}
    no_band = await admin_client.post(DUES, json={"organisation_id": bastia["id"], "year": 2030})
    assert no_band.status_code == 422
    assert fields(no_band) == {"year"}
    assert "2030" in no_band.json()["detail"]


async def test_generating_a_years_dues_invoices_each_active_member_once(admin_client: AsyncTestClient[Any]) -> None:
    await schedule(admin_client, 2026)
    bastia, ajaccio = await commune(admin_client, "2B033"), await commune(admin_client, "2A004")
    bourg, reunion = await commune(admin_client, "01053"), await commune(admin_client, "97411")
    nameless = await organisation(admin_client, kind="association", name="Réseau sans population")
    for org in (bastia, ajaccio, bourg, nameless):
        await member(admin_client, org, status="active")
    await member(admin_client, reunion, status="prospect")
    await admin_client.post(DUES, json={"organisation_id": bourg["id"], "year": 2026, "amount": "100"})

    first = await admin_client.post(f"{DUES}/generate", json={"year": 2026})
    assert first.status_code == 200
    result = first.json()
    assert (result["created"], result["already_invoiced"]) == (2, 1)
    assert [(s["name"], s["reason"]) for s in result["skipped"]] == [("Réseau sans population", "population unknown")]

    again = (await admin_client.post(f"{DUES}/generate", json={"year": 2026})).json()
    assert (again["created"], again["already_invoiced"]) == (0, 3)
    dues = (await admin_client.get(DUES, params={"year": 2026, "limit": 100})).json()
    assert sorted(d["organisation_name"] for d in dues["items"]) == ["Ajaccio", "Bastia", "Bourg-en-Bresse"]


async def test_payments_and_the_unpaid_dues_of_a_year(admin_client: AsyncTestClient[Any]) -> None:
    await schedule(admin_client, 2025)
    await schedule(admin_client, 2026)
    orgs = [await commune(admin_client, code) for code in ("2B033", "2A004", "01053")]
    ids: dict[tuple[str, int], str] = {}
    for org in orgs:
        for year in (2025, 2026):
            created = await admin_client.post(DUES, json={"organisation_id": org["id"], "year": year})
            ids[(org["name"], year)] = created.json()["id"]

    paid = await admin_client.patch(f"{DUES}/{ids[('Bastia', 2026)]}", json={"status": "paid"})
    assert paid.status_code == 200
    assert paid.json()["paid_on"] == date.today().isoformat()
    dated = await admin_client.patch(
        f"{DUES}/{ids[('Ajaccio', 2025)]}", json={"status": "paid", "paid_on": "2025-03-10"}
    )
    assert dated.json()["paid_on"] == "2025-03-10"
    waived = await admin_client.patch(
        f"{DUES}/{ids[('Bourg-en-Bresse', 2026)]}", json={"status": "waived", "notes": "Première année offerte"}
    )
    assert (waived.json()["status"], waived.json()["paid_on"]) == ("waived", None)
    wrong = await admin_client.patch(f"{DUES}/{ids[('Ajaccio', 2026)]}", json={"paid_on": "2026-01-01"})
    assert wrong.status_code == 422
    assert fields(wrong) == {"paid_on"}

    unpaid = (await admin_client.get(DUES, params={"year": 2026, "status": "invoiced"})).json()
    assert [(d["organisation_name"], d["year"], Decimal(d["amount"])) for d in unpaid["items"]] == [
        ("Ajaccio", 2026, Decimal("900"))
    ]
    of_bastia = (await admin_client.get(DUES, params={"organisation_id": orgs[0]["id"], "sort": "year"})).json()
    assert [(d["year"], d["status"]) for d in of_bastia["items"]] == [(2025, "invoiced"), (2026, "paid")]


async def test_roles_on_memberships_dues_and_fee_bands(client: AsyncTestClient[Any], make_staff: Any) -> None:
    admin = await make_staff(StaffRole.ADMIN)
    await log_in(client, admin.email)
    await schedule(client, 2026)
    band = (await client.get(BANDS)).json()["items"][0]

    editor = await make_staff(StaffRole.EDITOR)
    await log_in(client, editor.email)
    bastia = await commune(client, "2B033")
    membership = await member(client, bastia, status="active")
    assert (await client.post(DUES, json={"organisation_id": bastia["id"], "year": 2026})).status_code == 201
    assert (await client.post(BANDS, json={"year": 2030, "amount": "10"})).status_code == 403
    assert (await client.patch(f"{BANDS}/{band['id']}", json={"amount": "10"})).status_code == 403
    assert (await client.delete(f"{BANDS}/{band['id']}")).status_code == 403

    viewer = await make_staff(StaffRole.VIEWER)
    await log_in(client, viewer.email)
    assert (await client.get(BANDS)).json()["total"] == 3
    assert (await client.get(DUES)).json()["total"] == 1
    assert (await client.get(f"{MEMBERSHIPS}/{membership['id']}/history")).status_code == 200
    assert (await client.patch(f"{MEMBERSHIPS}/{membership['id']}", json={"status": "lapsed"})).status_code == 403
    assert (await client.post(f"{DUES}/generate", json={"year": 2026})).status_code == 403


async def test_dues_and_memberships_are_audited(admin_client: AsyncTestClient[Any]) -> None:
    await schedule(admin_client, 2026)
    bastia = await commune(admin_client, "2B033")
    dues = (await admin_client.post(DUES, json={"organisation_id": bastia["id"], "year": 2026})).json()
    await admin_client.patch(f"{DUES}/{dues['id']}", json={"status": "paid", "paid_on": "2026-02-01"})
    log = (await admin_client.get("/api/v1/audit-log", params={"entity_id": dues["id"]})).json()["items"]
    assert [e["action"] for e in log] == ["update", "create"]
    assert log[0]["changes"]["status"] == {"old": "invoiced", "new": "paid"}
    assert log[0]["changes"]["paid_on"] == {"old": None, "new": "2026-02-01"}


async def test_history_follows_the_day_things_happened_not_the_day_they_were_typed(
    admin_client: AsyncTestClient[Any],
) -> None:
    ajaccio = await commune(admin_client, "2A004")
    membership = await member(admin_client, ajaccio, changed_on="2024-06-01", note="Premier contact")
    # The council's decision of January is typed in later: it still comes first in the history.
    url = f"{MEMBERSHIPS}/{membership['id']}"
    joined = await admin_client.patch(url, json={"status": "active", "changed_on": "2024-01-15"})
    assert joined.status_code == 200
    history = (await admin_client.get(f"{url}/history")).json()
    assert [(h["changed_on"], h["status"]) for h in history] == [("2024-01-15", "active"), ("2024-06-01", "prospect")]


async def test_q_searches_memberships_dues_and_fee_bands(admin_client: AsyncTestClient[Any]) -> None:
    ajaccio = await commune(admin_client, "2A004")
    bastia = await commune(admin_client, "2B033")
    for org in (ajaccio, bastia):
        await member(admin_client, org)
        dues = await admin_client.post(DUES, json={"organisation_id": org["id"], "year": 2025, "amount": "450"})
        assert dues.status_code == 201, dues.text

    async def found(url: str, q: str) -> list[str]:
        response = await admin_client.get(url, params={"q": q})
        assert response.status_code == 200, response.text
        return sorted(i.get("organisation_name") or i.get("label") for i in response.json()["items"])

    assert await found(MEMBERSHIPS, "ajac") == ["Ajaccio"]
    assert await found(MEMBERSHIPS, "2B033") == ["Bastia"]
    assert await found(MEMBERSHIPS, "zzzzzz") == []
    assert await found(DUES, "BASTIA") == ["Bastia"]
    assert await found(DUES, "zzzzzz") == []
    assert len(await found(MEMBERSHIPS, "")) == 2

    await schedule(admin_client, 2025)
    assert await found(BANDS, "plus") == ["plus de 100 000"]
    assert await found(BANDS, "a 100") == ["50 000 à 100 000"]
    assert await found(BANDS, "100") == ["50 000 à 100 000", "plus de 100 000"]
    assert await found(BANDS, "zzzzzz") == []
