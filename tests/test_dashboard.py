"""The admin's first page in one call, and the reference geography its forms read."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from crm.db.models.staff import StaffRole
from tests.conftest import log_in
from tests.test_memberships import commune, member, schedule

TODAY = date.today()


async def test_the_lookup_shows_what_a_code_will_create_before_saving(admin_client: AsyncTestClient[Any]) -> None:
    ajaccio = await admin_client.get("/api/v1/geo/lookup", params={"insee_code": "2a004"})
    assert ajaccio.status_code == 200, ajaccio.text
    place = ajaccio.json()
    assert place["name"] == "Ajaccio"
    assert (place["departement_name"], place["region_name"]) == ("Corse-du-Sud", "Corse")
    assert place["population"] > 50_000
    assert place["epci_name"]

    postcode = await admin_client.get("/api/v1/geo/lookup", params={"insee_code": "75000"})
    assert postcode.status_code == 422
    assert postcode.json()["errors"][0]["field"] == "insee_code"
    assert "postal code" in postcode.json()["detail"]

    nothing = await admin_client.get("/api/v1/geo/lookup")
    assert nothing.status_code == 422

    # No one creates anything by looking.
    assert (await admin_client.get("/api/v1/organisations")).json()["total"] == 0


async def test_regions_and_departements_list_corsica_and_overseas(admin_client: AsyncTestClient[Any]) -> None:
    regions = {r["code"]: r["name"] for r in (await admin_client.get("/api/v1/geo/regions")).json()}
    assert regions["94"] == "Corse"
    assert regions["04"] == "La Réunion"
    departements = {d["code"]: d for d in (await admin_client.get("/api/v1/geo/departements")).json()}
    assert departements["2A"]["region_code"] == "94"
    assert departements["974"]["name"] == "La Réunion"


async def test_the_dashboard_counts_members_dues_and_deadlines(admin_client: AsyncTestClient[Any]) -> None:
    await schedule(admin_client, TODAY.year)
    ajaccio = await commune(admin_client, "2A004")
    bastia = await commune(admin_client, "2B033")
    saint_denis = await commune(admin_client, "97411")
    for org in (ajaccio, bastia, saint_denis):
        await member(admin_client, org, status="active", member_since=str(TODAY.replace(month=1, day=1)))
    generated = await admin_client.post("/api/v1/dues/generate", json={"year": TODAY.year})
    assert generated.status_code in (200, 201), generated.text

    partner = await admin_client.post(
        "/api/v1/organisations", json={"kind": "association", "name": "Villes moyennes de France"}
    )
    convention = await admin_client.post(
        "/api/v1/conventions",
        json={
            "organisation_id": partner.json()["id"],
            "title": "Convention de partenariat",
            "status": "active",
            "renewal": "tacit",
            "starts_on": str(TODAY - timedelta(days=700)),
            "ends_on": str(TODAY + timedelta(days=60)),
            "notice_period_days": 30,
            "renewal_term_months": 36,
        },
    )
    assert convention.status_code == 201, convention.text

    board = await admin_client.get("/api/v1/dashboard")
    assert board.status_code == 200, board.text
    figures = board.json()
    assert figures["members_by_status"]["active"] == 3
    regions = {r["region_name"]: r["count"] for r in figures["members_by_region"]}
    assert regions == {"Corse": 2, "La Réunion": 1}
    assert figures["dues_unpaid"]["count"] == 3
    assert float(figures["dues_unpaid"]["amount"]) > 0
    [ending] = figures["conventions_ending"]
    assert ending["partner_name"] == "Villes moyennes de France"
    assert ending["notice_deadline"] == str(TODAY + timedelta(days=30))


async def test_every_role_reads_the_dashboard_and_strangers_do_not(
    client: AsyncTestClient[Any], make_staff: Any
) -> None:
    assert (await client.get("/api/v1/dashboard")).status_code == 401
    viewer = await make_staff(StaffRole.VIEWER)
    await log_in(client, viewer.email)
    assert (await client.get("/api/v1/dashboard")).status_code == 200
    assert (await client.get("/api/v1/geo/regions")).status_code == 200
