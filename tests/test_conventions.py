from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm.db.models.organisation import Organisation
from crm.db.models.staff import StaffRole
from crm.domain.conventions.services import add_months
from tests.test_people import MakeOrg, as_role, org_maker

TODAY = date.today()


@pytest.fixture
def make_org(engine: AsyncEngine) -> MakeOrg:
    return org_maker(engine)


async def add_convention(client: AsyncTestClient[Any], **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/conventions", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def is_partner(engine: AsyncEngine, organisation_id: str) -> bool:
    async with AsyncSession(engine) as session:
        return bool(await session.scalar(select(Organisation.is_partner).where(Organisation.id == organisation_id)))


async def test_a_convention_makes_its_organisation_a_partner(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg, engine: AsyncEngine
) -> None:
    villes = await make_org("Villes de France")
    assert not await is_partner(engine, villes)
    convention = await add_convention(
        admin_client,
        organisation_id=villes,
        title="Convention de partenariat 2023-2026",
        status="signed",
        signed_on="2023-01-15",
        starts_on="2023-02-01",
        ends_on="2026-01-31",
        renewal="tacit",
        notice_period_days=90,
        renewal_term_months=36,
        document_url="https://docs.example.fr/conventions/villes-de-france.pdf",
        commitments="Co-organisation du congrès ; échange de listes d’adhérents.",
    )
    assert convention["organisation_name"] == "Villes de France"
    assert convention["notice_deadline"] == "2025-11-02"
    assert convention["document_url"] == "https://docs.example.fr/conventions/villes-de-france.pdf"
    assert await is_partner(engine, villes)
    explicit = await add_convention(
        admin_client, organisation_id=villes, title="Avenant", ends_on="2026-01-31", notice_period_days=30
    )
    # An explicit renewal has no notice to give.
    assert explicit["status"] == "draft"
    assert explicit["notice_deadline"] is None


async def test_conventions_are_found_by_partner_name_and_any_of_their_words(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    villes = await make_org("Villes de France")
    fnccr = await make_org("FNCCR")
    await add_convention(admin_client, organisation_id=villes, title="Convention de partenariat 2023-2026")
    await add_convention(admin_client, organisation_id=fnccr, title="Accord-cadre numérique")

    async def titles(q: str) -> list[str]:
        response = await admin_client.get("/api/v1/conventions", params={"q": q})
        assert response.status_code == 200, response.text
        return sorted(c["title"] for c in response.json()["items"])

    assert await titles("villes de france") == ["Convention de partenariat 2023-2026"]
    assert await titles("partenariat villes") == ["Convention de partenariat 2023-2026"]
    assert await titles("2026 convention") == ["Convention de partenariat 2023-2026"]
    assert await titles("fnccr numerique") == ["Accord-cadre numérique"]
    assert await titles("accord cadre") == ["Accord-cadre numérique"]
    assert await titles("fnccr partenariat") == []


async def test_bad_convention_input_names_the_field(admin_client: AsyncTestClient[Any], make_org: MakeOrg) -> None:
    villes = await make_org("Villes de France")
    base = {"organisation_id": villes, "title": "Convention"}
    for url in ("javascript:alert(1)", "ftp://example.fr/doc.pdf", "pas une adresse"):
        response = await admin_client.post("/api/v1/conventions", json={**base, "document_url": url})
        assert response.status_code in (400, 422), url
        assert "document_url" in response.json()["errors"][0]["field"]
    backwards = await admin_client.post(
        "/api/v1/conventions", json={**base, "starts_on": "2024-01-01", "ends_on": "2023-12-31"}
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "ends_on"
    negative = await admin_client.post("/api/v1/conventions", json={**base, "notice_period_days": -1})
    assert negative.status_code in (400, 422)
    assert "notice_period_days" in negative.json()["errors"][0]["field"]
    nobody = await admin_client.post("/api/v1/conventions", json={**base, "organisation_id": str(uuid4())})
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0]["field"] == "organisation_id"
    assert (await admin_client.get("/api/v1/conventions")).json()["total"] == 0

    convention = await add_convention(admin_client, **base, starts_on="2024-01-01", ends_on="2026-12-31")
    patched = await admin_client.patch(f"/api/v1/conventions/{convention['id']}", json={"ends_on": "2023-01-01"})
    assert patched.status_code == 422
    assert patched.json()["errors"][0]["field"] == "ends_on"
    assert (await admin_client.get(f"/api/v1/conventions/{convention['id']}")).json()["ends_on"] == "2026-12-31"


async def test_conventions_due_soon_say_what_is_due_soonest_first(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    partner = await make_org("Villes de France")
    # Tacit, ends in 100 days with 60 days' notice: notice is due in 40 days.
    notice_soon = await add_convention(
        admin_client,
        organisation_id=partner,
        title="Reconduction tacite",
        status="active",
        ends_on=str(TODAY + timedelta(days=100)),
        renewal="tacit",
        notice_period_days=60,
        renewal_term_months=12,
    )
    # Explicit, ends in 20 days.
    end_soon = await add_convention(
        admin_client,
        organisation_id=partner,
        title="Convention annuelle",
        status="active",
        ends_on=str(TODAY + timedelta(days=20)),
    )
    # Tacit whose notice deadline passed last week: only its end, in 23 days, is still due.
    notice_missed = await add_convention(
        admin_client,
        organisation_id=partner,
        title="Préavis dépassé",
        status="active",
        ends_on=str(TODAY + timedelta(days=23)),
        renewal="tacit",
        notice_period_days=30,
        renewal_term_months=12,
    )
    await add_convention(
        admin_client,
        organisation_id=partner,
        title="Lointaine",
        status="active",
        ends_on=str(TODAY + timedelta(days=400)),
        renewal="tacit",
        notice_period_days=90,
    )
    await add_convention(
        admin_client,
        organisation_id=partner,
        title="Résiliée",
        status="terminated",
        ends_on=str(TODAY + timedelta(days=5)),
    )

    due = (await admin_client.get("/api/v1/conventions", params={"due_within_days": 60})).json()
    assert due["total"] == 3
    assert [(c["id"], c["due"], c["due_on"]) for c in due["items"]] == [
        (end_soon["id"], "end", str(TODAY + timedelta(days=20))),
        (notice_missed["id"], "end", str(TODAY + timedelta(days=23))),
        (notice_soon["id"], "notice", str(TODAY + timedelta(days=40))),
    ]
    assert due["items"][2]["notice_deadline"] == str(TODAY + timedelta(days=40))
    within_21 = (await admin_client.get("/api/v1/conventions", params={"due_within_days": 21})).json()
    assert [c["id"] for c in within_21["items"]] == [end_soon["id"]]
    # Without the parameter, the list says nothing of what is due.
    everything = (await admin_client.get("/api/v1/conventions")).json()
    assert everything["total"] == 5
    assert {c["due"] for c in everything["items"]} == {None}
    too_far = await admin_client.get("/api/v1/conventions", params={"due_within_days": -1})
    assert too_far.status_code == 400
    assert too_far.json()["errors"][0]["field"] == "due_within_days"


async def test_renewing_keeps_the_previous_end_in_the_audit_log(
    admin_client: AsyncTestClient[Any], make_org: MakeOrg
) -> None:
    partner = await make_org("Villes de France")
    tacit = await add_convention(
        admin_client,
        organisation_id=partner,
        title="Tacite",
        status="active",
        starts_on="2023-02-01",
        ends_on="2026-01-31",
        renewal="tacit",
        notice_period_days=90,
        renewal_term_months=13,
    )
    renewed = await admin_client.post(f"/api/v1/conventions/{tacit['id']}/renew", json={})
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["ends_on"] == "2027-02-28"
    assert renewed.json()["notice_deadline"] == "2026-11-30"

    explicit = await add_convention(
        admin_client, organisation_id=partner, title="Explicite", status="expired", ends_on="2025-12-31"
    )
    needs_end = await admin_client.post(f"/api/v1/conventions/{explicit['id']}/renew", json={})
    assert needs_end.status_code == 422
    assert needs_end.json()["errors"][0]["field"] == "ends_on"
    earlier = await admin_client.post(f"/api/v1/conventions/{explicit['id']}/renew", json={"ends_on": "2025-06-30"})
    assert earlier.status_code == 422
    assert earlier.json()["errors"][0]["field"] == "ends_on"
    signed = await admin_client.post(
        f"/api/v1/conventions/{explicit['id']}/renew", json={"ends_on": "2028-12-31", "signed_on": "2025-12-01"}
    )
    assert signed.status_code == 200
    assert (signed.json()["ends_on"], signed.json()["signed_on"], signed.json()["status"]) == (
        "2028-12-31",
        "2025-12-01",
        "active",
    )

    log = (
        await admin_client.get("/api/v1/audit-log", params={"entity_type": "convention", "entity_id": tacit["id"]})
    ).json()["items"]
    updates = [e["changes"] for e in log if e["action"] == "update"]
    assert updates == [{"ends_on": {"old": "2026-01-31", "new": "2027-02-28"}}]
    [renewal] = [e["changes"] for e in log if e["action"] == "renew"]
    assert renewal == {"previous_ends_on": "2026-01-31", "ends_on": "2027-02-28"}

    terminated = await add_convention(
        admin_client, organisation_id=partner, title="Résiliée", status="terminated", ends_on="2025-12-31"
    )
    refused = await admin_client.post(f"/api/v1/conventions/{terminated['id']}/renew", json={"ends_on": "2027-12-31"})
    assert refused.status_code == 409


def test_adding_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2025, 6, 15), 36) == date(2028, 6, 15)


async def test_roles_on_conventions(client: AsyncTestClient[Any], make_staff: Any, make_org: MakeOrg) -> None:
    partner = await make_org("Villes de France")
    await as_role(client, make_staff, StaffRole.VIEWER)
    assert (
        await client.post("/api/v1/conventions", json={"organisation_id": partner, "title": "X"})
    ).status_code == 403
    await as_role(client, make_staff, StaffRole.EDITOR)
    convention = await add_convention(client, organisation_id=partner, title="Convention", ends_on="2026-12-31")
    assert (
        await client.post(f"/api/v1/conventions/{convention['id']}/renew", json={"ends_on": "2029-12-31"})
    ).status_code == 200
    assert (await client.delete(f"/api/v1/conventions/{convention['id']}")).status_code == 403
    await as_role(client, make_staff, StaffRole.ADMIN)
    assert (await client.delete(f"/api/v1/conventions/{convention['id']}")).status_code == 204
    assert (await client.get(f"/api/v1/conventions/{convention['id']}")).status_code == 404
