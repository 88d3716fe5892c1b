from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from crm.db.models.board import BoardRole, Mandate
from crm.db.models.convention import Convention, ConventionStatus, Renewal
from crm.db.models.label import LabelAward
from crm.db.models.membership import Membership, MembershipStatus
from crm.db.models.person import Person, Position, PositionKind
from crm.db.models.staff import StaffRole
from crm.db.models.tag import Tag, Tagging
from crm.lib.services import alchemy_config, open_session
from tests.conftest import log_in

ORGS = "/api/v1/organisations"


async def insert(settings: Any, *records: Any) -> None:
    """Rows that other parts of the API own (people, board, conventions, tags), put straight in."""
    config = alchemy_config(settings)
    async with open_session(config) as session:
        for record in records:
            session.add(record)
            await session.flush()
    await config.get_engine().dispose()


async def create(client: AsyncTestClient[Any], **body: Any) -> dict[str, Any]:
    response = await client.post(ORGS, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def commune(client: AsyncTestClient[Any], insee_code: str) -> dict[str, Any]:
    return await create(client, kind="commune", insee_code=insee_code)


def error_fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


async def test_a_commune_is_filled_in_from_its_insee_code(admin_client: AsyncTestClient[Any]) -> None:
    ajaccio = await create(admin_client, kind="commune", insee_code="2a004", name="Ajaccio la belle")
    assert ajaccio["name"] == "Ajaccio"  # the official name wins
    assert ajaccio["insee_code"] == "2A004"
    assert ajaccio["population"] == 70659
    assert (ajaccio["departement_code"], ajaccio["departement_name"]) == ("2A", "Corse-du-Sud")
    assert (ajaccio["region_code"], ajaccio["region_name"]) == ("94", "Corse")
    assert ajaccio["epci_siren"] == "242010056"
    assert ajaccio["epci_name"] == "Communauté d'agglomération du Pays Ajaccien"
    assert ajaccio["membership_status"] is None
    assert ajaccio["latest_label"] is None
    assert ajaccio["tags"] == []

    bastia = await commune(admin_client, "2B033")
    assert (bastia["name"], bastia["departement_name"]) == ("Bastia", "Haute-Corse")
    reunion = await commune(admin_client, "97411")
    assert (reunion["name"], reunion["departement_code"], reunion["region_name"]) == (
        "Saint-Denis",
        "974",
        "La Réunion",
    )
    # A spreadsheet lost the leading zero of Bourg-en-Bresse: it is put back.
    bourg = await create(admin_client, kind="commune", insee_code="1053")
    assert (bourg["insee_code"], bourg["name"], bourg["departement_name"]) == ("01053", "Bourg-en-Bresse", "Ain")

    fetched = (await admin_client.get(f"{ORGS}/{ajaccio['id']}")).json()
    assert fetched == ajaccio


async def test_an_epci_is_filled_in_from_its_siren(admin_client: AsyncTestClient[Any]) -> None:
    epci = await create(admin_client, kind="epci", siren="242 010 056")
    assert epci["siren"] == "242010056"
    assert epci["name"] == "Communauté d'agglomération du Pays Ajaccien"
    assert epci["region_name"] == "Corse"
    assert epci["population"] > 70659  # the sum of its communes, Ajaccio among them


async def test_wrong_codes_are_refused_naming_the_field_and_why(admin_client: AsyncTestClient[Any]) -> None:
    unknown = await admin_client.post(ORGS, json={"kind": "commune", "insee_code": "2A999"})
    assert unknown.status_code == 422
    assert error_fields(unknown) == {"insee_code"}
    assert "2A999" in unknown.json()["detail"]
    postal = await admin_client.post(ORGS, json={"kind": "commune", "insee_code": "75000"})
    assert postal.status_code == 422
    assert "postal code" in postal.json()["errors"][0]["detail"]
    luhn = await admin_client.post(ORGS, json={"kind": "epci", "siren": "242010057"})
    assert luhn.status_code == 422
    assert error_fields(luhn) == {"siren"}
    assert "check digit" in luhn.json()["detail"]
    missing = await admin_client.post(ORGS, json={"kind": "commune", "name": "Ajaccio"})
    assert missing.status_code == 422
    assert error_fields(missing) == {"insee_code"}
    nameless = await admin_client.post(ORGS, json={"kind": "association"})
    assert error_fields(nameless) == {"name"}
    bad_kind = await admin_client.post(ORGS, json={"kind": "village", "name": "X"})
    assert bad_kind.status_code in (400, 422)
    assert "kind" in error_fields(bad_kind)
    assert (await admin_client.get(ORGS)).json()["total"] == 0


async def test_the_same_code_twice_is_a_conflict(admin_client: AsyncTestClient[Any]) -> None:
    await commune(admin_client, "2A004")
    again = await admin_client.post(ORGS, json={"kind": "commune", "insee_code": "2A004"})
    assert again.status_code == 409
    assert error_fields(again) == {"insee_code"}
    await create(admin_client, kind="epci", siren="242010056")
    epci_again = await admin_client.post(ORGS, json={"kind": "epci", "siren": "242010056"})
    assert epci_again.status_code == 409
    assert error_fields(epci_again) == {"siren"}
    assert (await admin_client.get(ORGS)).json()["total"] == 2


async def test_other_kinds_are_created_by_name_or_code(admin_client: AsyncTestClient[Any]) -> None:
    corse_du_sud = await create(admin_client, kind="departement", departement_code="2A")
    assert (corse_du_sud["name"], corse_du_sud["region_code"]) == ("Corse-du-Sud", "94")
    region = await create(admin_client, kind="region", region_code="4")
    assert (region["name"], region["region_code"]) == ("La Réunion", "04")
    named = await create(admin_client, kind="departement", departement_code="974", name="Département de La Réunion")
    assert named["name"] == "Département de La Réunion"
    association = await create(
        admin_client,
        kind="association",
        name="Villes de France",
        is_partner=True,
        email="Contact@Villes-de-France.example",
        website="https://villesdefrance.example",
    )
    assert association["is_partner"] is True
    assert association["email"] == "contact@villes-de-france.example"
    bad_dep = await admin_client.post(ORGS, json={"kind": "departement", "departement_code": "20"})
    assert bad_dep.status_code == 422
    assert error_fields(bad_dep) == {"departement_code"}
    bad_region = await admin_client.post(ORGS, json={"kind": "region", "region_code": "99"})
    assert error_fields(bad_region) == {"region_code"}


async def test_patch_changes_only_the_fields_sent(admin_client: AsyncTestClient[Any]) -> None:
    org = await create(admin_client, kind="association", name="Association des maires", phone="01 02 03 04 05")
    changed = await admin_client.patch(
        f"{ORGS}/{org['id']}", json={"notes": "Rencontre au congrès", "departement_code": "85"}
    )
    assert changed.status_code == 200
    body = changed.json()
    assert body["notes"] == "Rencontre au congrès"
    assert body["phone"] == "01 02 03 04 05"
    assert (body["departement_name"], body["region_name"]) == ("Vendée", "Pays de la Loire")
    identity = await admin_client.patch(f"{ORGS}/{org['id']}", json={"insee_code": "2A004"})
    assert identity.status_code in (400, 422)
    assert "insee_code" in error_fields(identity)
    empty_name = await admin_client.patch(f"{ORGS}/{org['id']}", json={"name": None})
    assert error_fields(empty_name) == {"name"}
    assert (await admin_client.get(f"{ORGS}/{org['id']}")).json()["name"] == "Association des maires"


async def test_search_forgives_accents_case_hyphens_and_partial_words(admin_client: AsyncTestClient[Any]) -> None:
    for code in ("42218", "85194", "2A004", "2B033", "54584"):
        await commune(admin_client, code)

    async def names(q: str, **params: Any) -> list[str]:
        response = await admin_client.get(ORGS, params={"q": q, **params})
        assert response.status_code == 200
        return [o["name"] for o in response.json()["items"]]

    # With q and no sort, the best match comes first.
    assert (await names("saint etienne"))[0] == "Saint-Étienne"
    assert set(await names("saint etienne")) == {"Saint-Étienne", "Villey-Saint-Étienne"}
    assert await names("Sables d'Olonne") == ["Les Sables-d'Olonne"]
    assert await names("sables d’olonne") == ["Les Sables-d'Olonne"]
    assert await names("ajac") == ["Ajaccio"]
    assert await names("AJACCIO") == ["Ajaccio"]
    assert await names("2b033") == ["Bastia"]
    assert await names("saint etienne", sort="-name") == ["Villey-Saint-Étienne", "Saint-Étienne"]
    assert await names("lyon") == []


async def test_search_forgives_saint_abbreviations_and_one_wrong_letter(admin_client: AsyncTestClient[Any]) -> None:
    for code in ("42218", "83115", "2A004", "95313"):
        await commune(admin_client, code)
    for siren in ("200010650", "200033579"):  # CA du Grand Dole, CU d'Arras
        await create(admin_client, kind="epci", siren=siren)
    await create(admin_client, kind="association", name="St-Jean Solidarité")
    await create(admin_client, kind="association", name="CC du Pays de Gex (syndicat)")

    async def names(q: str) -> list[str]:
        response = await admin_client.get(ORGS, params={"q": q})
        assert response.status_code == 200, response.text
        return [o["name"] for o in response.json()["items"]]

    assert await names("st etienne") == ["Saint-Étienne"]
    assert await names("St-Étienne") == ["Saint-Étienne"]
    assert await names("ste maxime") == ["Sainte-Maxime"]
    assert await names("saint jean") == ["St-Jean Solidarité"]
    assert await names("ca grand dole") == ["Communauté d'agglomération du Grand Dole"]
    assert await names("communaute d'agglo dole") == ["Communauté d'agglomération du Grand Dole"]
    assert await names("cu arras") == ["Communauté urbaine d'Arras"]
    assert await names("communauté de communes pays de gex") == ["CC du Pays de Gex (syndicat)"]
    assert await names("isle adam") == ["L'Isle-Adam"]
    assert await names("lisle adam") == ["L'Isle-Adam"]
    # One letter missing: nothing matches exactly, so the nearest names come instead.
    assert await names("ajacio") == ["Ajaccio"]
    assert await names("saint etiene") == ["Saint-Étienne"]
    assert await names("paris") == []


async def test_filters_combine(admin_client: AsyncTestClient[Any], settings: Any) -> None:
    ajaccio = await commune(admin_client, "2A004")
    bastia = await commune(admin_client, "2B033")
    reunion = await commune(admin_client, "97411")
    bourg = await commune(admin_client, "01053")
    partner = await create(admin_client, kind="association", name="Villes de France", is_partner=True)
    today = date.today()
    person = Person(first_name="Élodie", last_name="Martin")
    await insert(settings, person)
    tag = Tag(name="Villes moyennes")
    await insert(
        settings,
        Membership(organisation_id=ajaccio["id"], status=MembershipStatus.ACTIVE, member_since=date(2019, 1, 1)),
        Membership(organisation_id=bastia["id"], status=MembershipStatus.LAPSED),
        LabelAward(organisation_id=ajaccio["id"], year=2024, level=4, green=True),
        LabelAward(organisation_id=bastia["id"], year=2024, level=2, green=False),
        LabelAward(organisation_id=reunion["id"], year=2023, level=5, green=False),
        Mandate(person_id=person.id, organisation_id=bastia["id"], role=BoardRole.TREASURER, term_start=today),
        Mandate(
            person_id=person.id,
            organisation_id=reunion["id"],
            role=BoardRole.MEMBER,
            term_start=today - timedelta(days=800),
            term_end=today - timedelta(days=1),
        ),
        tag,
    )
    await insert(settings, Tagging(tag_id=tag.id, entity_type="organisation", entity_id=bourg["id"]))

    async def names(**params: Any) -> list[str]:
        response = await admin_client.get(ORGS, params={"sort": "name", **params})
        assert response.status_code == 200, response.text
        return [o["name"] for o in response.json()["items"]]

    assert await names(kind="commune", region_code="94") == ["Ajaccio", "Bastia"]
    assert await names(departement_code="2b") == ["Bastia"]
    assert await names(departement_code="974") == ["Saint-Denis"]
    assert await names(population_min=45000, population_max=71000) == ["Ajaccio", "Bastia"]
    assert await names(membership_status="active") == ["Ajaccio"]
    assert await names(label_year=2024) == ["Ajaccio", "Bastia"]
    assert await names(label_year=2024, label_level=3) == ["Ajaccio"]
    assert await names(label_level=5) == ["Saint-Denis"]
    assert await names(label_green="true") == ["Ajaccio"]
    assert await names(board_member="true") == ["Bastia"]
    assert "Saint-Denis" in await names(board_member="false")
    assert await names(tag="villes moyennes") == ["Bourg-en-Bresse"]
    assert await names(is_partner="true") == ["Villes de France"]
    assert partner["name"] not in await names(is_partner="false")
    bad = await admin_client.get(ORGS, params={"region_code": "corse"})
    assert bad.status_code == 422
    assert error_fields(bad) == {"region_code"}

    listed = {o["name"]: o for o in (await admin_client.get(ORGS)).json()["items"]}
    assert listed["Ajaccio"]["membership_status"] == "active"
    assert listed["Ajaccio"]["member_since"] == "2019-01-01"
    assert listed["Ajaccio"]["latest_label"] == {"year": 2024, "level": 4, "green": True}
    assert listed["Bourg-en-Bresse"]["tags"] == ["Villes moyennes"]


async def test_list_pages_and_sorts(admin_client: AsyncTestClient[Any]) -> None:
    for code in ("2A004", "2B033", "97411", "01053"):
        await commune(admin_client, code)
    page = (await admin_client.get(ORGS, params={"limit": 2, "offset": 1, "sort": "-population"})).json()
    assert page["total"] == 4
    assert (page["limit"], page["offset"]) == (2, 1)
    assert [o["name"] for o in page["items"]] == ["Ajaccio", "Bastia"]
    for name in ("Fédération des villes", "Élus du numérique", "Agence"):
        await create(admin_client, kind="association", name=name)
    by_name = (await admin_client.get(ORGS, params={"kind": "association", "sort": "name"})).json()
    assert [o["name"] for o in by_name["items"]] == ["Agence", "Élus du numérique", "Fédération des villes"]
    bad = await admin_client.get(ORGS, params={"sort": "search_text"})
    assert bad.status_code == 400  # a bad query parameter: `sort` is an enum in the schema
    assert error_fields(bad) == {"sort"}


async def test_delete_refuses_while_records_are_attached_unless_told_to_detach(
    admin_client: AsyncTestClient[Any], settings: Any
) -> None:
    ajaccio = await commune(admin_client, "2A004")
    people = [Person(first_name="Jean", last_name=f"Agent {i}") for i in range(3)]
    await insert(settings, *people)
    await insert(
        settings,
        *(
            Position(person_id=p.id, organisation_id=ajaccio["id"], title="DSI", kind=PositionKind.STAFF)
            for p in people
        ),
        Mandate(
            person_id=people[0].id, organisation_id=ajaccio["id"], role=BoardRole.PRESIDENT, term_start=date(2024, 1, 1)
        ),
        Convention(
            organisation_id=ajaccio["id"], title="Convention", status=ConventionStatus.ACTIVE, renewal=Renewal.TACIT
        ),
        LabelAward(organisation_id=ajaccio["id"], year=2025, level=3),
        Membership(organisation_id=ajaccio["id"], status=MembershipStatus.ACTIVE),
    )
    url = f"{ORGS}/{ajaccio['id']}"
    refused = await admin_client.delete(url)
    assert refused.status_code == 409
    body = refused.json()
    assert body["attached"] == {"positions": 3, "mandates": 1, "conventions": 1, "labels": 1, "membership": 1}
    assert "confirm=detach" in body["detail"]
    assert (await admin_client.get(url)).status_code == 200

    wrong_word = await admin_client.delete(url, params={"confirm": "yes"})
    assert wrong_word.status_code in (400, 422)
    assert (await admin_client.get(url)).status_code == 200

    detached = await admin_client.delete(url, params={"confirm": "detach"})
    assert detached.status_code == 204
    assert (await admin_client.get(url)).status_code == 404
    # The people stay; what tied them to the organisation is gone, and each deletion is logged.
    log = (await admin_client.get("/api/v1/audit-log", params={"action": "delete", "limit": 100})).json()["items"]
    deleted = sorted(e["entity_type"] for e in log)
    assert deleted == sorted(["position"] * 3 + ["mandate", "convention", "label_award", "membership", "organisation"])
    assert not any(e["entity_type"] == "person" for e in log)


async def test_delete_of_a_bare_organisation_needs_no_confirmation(admin_client: AsyncTestClient[Any]) -> None:
    org = await create(admin_client, kind="other", name="Agence du numérique")
    assert (await admin_client.delete(f"{ORGS}/{org['id']}")).status_code == 204
    assert (await admin_client.get(f"{ORGS}/{org['id']}")).status_code == 404


async def test_viewers_read_editors_write_admins_delete(client: AsyncTestClient[Any], make_staff: Any) -> None:
    assert (await client.get(ORGS)).status_code == 401
    viewer = await make_staff(StaffRole.VIEWER)
    await log_in(client, viewer.email)
    assert (await client.get(ORGS)).status_code == 200
    assert (await client.post(ORGS, json={"kind": "commune", "insee_code": "2A004"})).status_code == 403

    editor = await make_staff(StaffRole.EDITOR)
    await log_in(client, editor.email)
    org = await commune(client, "2A004")
    assert (await client.patch(f"{ORGS}/{org['id']}", json={"notes": "ok"})).status_code == 200
    assert (await client.delete(f"{ORGS}/{org['id']}")).status_code == 403

    admin = await make_staff(StaffRole.ADMIN)
    await log_in(client, admin.email)
    assert (await client.delete(f"{ORGS}/{org['id']}")).status_code == 204


async def test_changes_to_organisations_are_in_the_audit_log(admin_client: AsyncTestClient[Any]) -> None:
    org = await commune(admin_client, "2B033")
    await admin_client.patch(f"{ORGS}/{org['id']}", json={"phone": "04 95 55 95 55"})
    me = (await admin_client.get("/api/v1/auth/me")).json()
    log = (await admin_client.get("/api/v1/audit-log", params={"entity_id": org["id"]})).json()["items"]
    assert [(e["action"], e["entity_type"], e["actor_id"]) for e in log] == [
        ("update", "organisation", me["id"]),
        ("create", "organisation", me["id"]),
    ]
    assert log[0]["changes"]["phone"] == {"old": None, "new": "04 95 55 95 55"}
    assert log[1]["changes"]["insee_code"] == "2B033"


async def test_the_service_creates_and_finds_by_code_for_other_callers(settings: Any) -> None:
    """The CSV import calls the service directly: same rules, same official data."""
    from crm.domain.organisations.schemas import OrganisationCreate, OrganisationUpdate
    from crm.domain.organisations.services import OrganisationService
    from crm.lib.problems import ProblemError

    config = alchemy_config(settings)
    async with open_session(config) as session:
        service = OrganisationService(session=session)
        bourg = await service.create_organisation(OrganisationCreate(kind="commune", insee_code="01053"))
        epci = await service.create_organisation(OrganisationCreate(kind="epci", siren="242010056"))
        assert (await service.find_by_code(insee_code="1053")) is bourg
        assert (await service.find_by_code(siren="242 010 056")) is epci
        assert await service.find_by_code(insee_code="2A004") is None
        assert await service.find_by_code(insee_code="pas un code") is None
        assert await service.find_by_code() is None
        updated = await service.update_organisation(bourg.id, OrganisationUpdate(notes="Préfecture de l'Ain"))
        assert (updated.name, updated.notes) == ("Bourg-en-Bresse", "Préfecture de l'Ain")
        with pytest.raises(ProblemError) as refused:
            await service.create_organisation(OrganisationCreate(kind="commune", insee_code="01053"))
        assert refused.value.status_code == 409
    await config.get_engine().dispose()


async def test_a_page_costs_the_same_queries_whatever_its_size(
    admin_client: AsyncTestClient[Any], settings: Any
) -> None:
    orgs = [await commune(admin_client, code) for code in ("2A004", "2B033", "97411", "01053", "42218")]
    tag = Tag(name="Villes moyennes")
    await insert(settings, tag)
    await insert(
        settings,
        *(Membership(organisation_id=o["id"], status=MembershipStatus.ACTIVE) for o in orgs),
        *(LabelAward(organisation_id=o["id"], year=2025, level=3) for o in orgs),
        *(Tagging(tag_id=tag.id, entity_type="organisation", entity_id=o["id"]) for o in orgs),
    )
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        costs = {}
        for limit in (1, 5):
            statements.clear()
            page = (await admin_client.get(ORGS, params={"limit": limit})).json()
            assert len(page["items"]) == limit
            assert all(o["tags"] == ["Villes moyennes"] and o["latest_label"] for o in page["items"])
            costs[limit] = len(statements)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert costs[1] > 0  # the queries were seen
    assert costs[1] == costs[5]


async def test_a_members_whole_story_comes_in_one_call_newest_first_in_pages(
    admin_client: AsyncTestClient[Any], settings: Any
) -> None:
    from datetime import UTC, datetime

    from crm.db.models.campaign import Campaign, CampaignKind, CampaignStatus, Delivery, DeliveryStatus
    from crm.db.models.event import Event, EventKind, Invitation, InvitationStatus
    from crm.db.models.lists import ListKind, MailingList
    from crm.db.models.membership import Dues, DuesStatus, MembershipStatusChange

    org = await commune(admin_client, "2A004")
    other = await commune(admin_client, "2B033")
    patched = await admin_client.patch(f"{ORGS}/{org['id']}", json={"notes": "Rencontre au congrès"})
    assert patched.status_code == 200
    membership = Membership(organisation_id=org["id"], status=MembershipStatus.ACTIVE, member_since=date(2019, 3, 1))
    mayor = Person(first_name="Stéphane", last_name="Sbraggia")
    dgs = Person(first_name="Marie", last_name="N'Diaye")
    stranger = Person(first_name="Louis", last_name="Bastia")
    mailing = MailingList(slug="lettre", name="Lettre", kind=ListKind.NEWSLETTER)
    await insert(settings, membership, mayor, dgs, stranger, mailing)
    event_ = Event(
        kind=EventKind.CONGRESS,
        title="Congrès 2024",
        starts_at=datetime(2024, 10, 3, 8, tzinfo=UTC),
        ends_at=datetime(2024, 10, 3, 17, tzinfo=UTC),
    )
    campaign = Campaign(
        name="Lettre de mai",
        kind=CampaignKind.NEWSLETTER,
        status=CampaignStatus.FINISHED,
        subject="Les nouvelles de mai",
        from_name="Association",
        from_email="lettre@example.org",
        list_id=mailing.id,
        template="newsletter",
        content={"blocks": []},
    )
    await insert(
        settings,
        MembershipStatusChange(
            membership_id=membership.id, status=MembershipStatus.ACTIVE, changed_on=date(2019, 3, 1)
        ),
        Dues(
            organisation_id=org["id"],
            year=2024,
            amount=800,
            status=DuesStatus.PAID,
            invoiced_on=date(2024, 2, 1),
            paid_on=date(2024, 3, 15),
        ),
        LabelAward(organisation_id=org["id"], year=2023, level=4, green=True),
        LabelAward(organisation_id=other["id"], year=2023, level=2),
        Position(
            person_id=mayor.id,
            organisation_id=org["id"],
            title="Maire",
            kind=PositionKind.ELECTED,
            started_on=date(2020, 7, 4),
        ),
        Position(
            person_id=dgs.id,
            organisation_id=org["id"],
            title="DGS",
            kind=PositionKind.STAFF,
            started_on=date(2018, 1, 1),
            ended_on=date(2022, 6, 30),
        ),
        Position(person_id=stranger.id, organisation_id=other["id"], title="Maire", kind=PositionKind.ELECTED),
        Mandate(person_id=mayor.id, organisation_id=org["id"], role=BoardRole.TREASURER, term_start=date(2021, 6, 15)),
        Convention(
            organisation_id=org["id"],
            title="Convention numérique",
            status=ConventionStatus.SIGNED,
            renewal=Renewal.EXPLICIT,
            signed_on=date(2022, 1, 10),
        ),
        event_,
        campaign,
    )
    await insert(
        settings,
        Invitation(event_id=event_.id, person_id=mayor.id, status=InvitationStatus.YES),
        Invitation(event_id=event_.id, person_id=stranger.id, status=InvitationStatus.YES),
        Delivery(
            campaign_id=campaign.id,
            person_id=mayor.id,
            email="maire@example.org",
            status=DeliveryStatus.SENT,
            next_attempt_at=datetime(2025, 5, 12, 9, tzinfo=UTC),
            sent_at=datetime(2025, 5, 12, 9, 1, tzinfo=UTC),
        ),
        Delivery(
            campaign_id=campaign.id,
            person_id=dgs.id,
            email="dgs@example.org",
            status=DeliveryStatus.SENT,
            next_attempt_at=datetime(2025, 5, 12, 9, tzinfo=UTC),
            sent_at=datetime(2025, 5, 12, 9, 2, tzinfo=UTC),
        ),
        Delivery(
            campaign_id=campaign.id,
            person_id=stranger.id,
            email="x@example.org",
            status=DeliveryStatus.SENT,
            next_attempt_at=datetime(2025, 5, 12, 9, tzinfo=UTC),
            sent_at=datetime(2025, 5, 12, 9, 3, tzinfo=UTC),
        ),
    )

    response = await admin_client.get(f"{ORGS}/{org['id']}/timeline", params={"limit": 100})
    assert response.status_code == 200, response.text
    body = response.json()
    audit = [e for e in body["items"] if e["kind"] == "audit"]
    assert [e["data"]["action"] for e in audit if e["data"]["entity_type"] == "organisation"] == ["update", "create"]
    # Newest first, whatever the kind.
    moments = [e["at"] for e in body["items"]]
    assert moments == sorted(moments, reverse=True)
    kinds = {e["kind"] for e in body["items"]}
    assert kinds >= {
        "campaign_received",
        "dues_paid",
        "dues_invoiced",
        "event_attended",
        "label",
        "position_ended",
        "convention_signed",
        "mandate_started",
        "position_started",
        "membership_started",
        "membership_status",
        "audit",
    }
    by_kind = {e["kind"]: e for e in body["items"]}
    assert by_kind["campaign_received"]["data"]["recipients"] == 2  # the stranger of Bastia is not counted
    assert by_kind["event_attended"]["person_name"] == "Stéphane Sbraggia"
    assert by_kind["label"]["data"] == {"year": 2023, "level": 4, "green": True}
    assert by_kind["position_ended"]["person_name"] == "Marie N'Diaye"
    assert by_kind["mandate_started"]["data"]["role"] == "treasurer"
    # Nothing of another member leaks in.
    assert all(e["person_name"] != "Louis Bastia" for e in body["items"])
    assert [e for e in body["items"] if e["kind"] == "label"] == [by_kind["label"]]

    # Pages: the same story, cut in two.
    first = (await admin_client.get(f"{ORGS}/{org['id']}/timeline", params={"limit": 5})).json()
    rest = (await admin_client.get(f"{ORGS}/{org['id']}/timeline", params={"limit": 100, "offset": 5})).json()
    assert first["total"] == rest["total"] == body["total"] == len(body["items"])
    assert first["items"] + rest["items"] == body["items"]

    missing = await admin_client.get(f"{ORGS}/01890000-0000-7000-8000-000000000000/timeline")
    assert missing.status_code == 404


async def test_a_members_campaigns_are_those_its_people_received_while_they_held_their_seat(
    admin_client: AsyncTestClient[Any], settings: Any
) -> None:
    from datetime import UTC, datetime

    from crm.db.models.campaign import Campaign, CampaignKind, CampaignStatus, Delivery, DeliveryStatus
    from crm.db.models.lists import ListKind, MailingList

    org = await commune(admin_client, "2A004")
    other = await commune(admin_client, "2B033")
    mayor = Person(first_name="Stéphane", last_name="Sbraggia")
    former_dgs = Person(first_name="Marie", last_name="N'Diaye")
    stranger = Person(first_name="Louis", last_name="Bastia")
    mailing = MailingList(slug="lettre", name="Lettre", kind=ListKind.NEWSLETTER)
    await insert(settings, mayor, former_dgs, stranger, mailing)
    campaigns = {
        name: Campaign(
            name=name,
            kind=CampaignKind.NEWSLETTER,
            status=CampaignStatus.FINISHED,
            subject=f"Les nouvelles : {name}",
            from_name="Association",
            from_email="lettre@example.org",
            list_id=mailing.id,
            template="newsletter",
            content={"blocks": []},
        )
        for name in ("Lettre 2021", "Lettre 2025")
    }
    await insert(
        settings,
        *campaigns.values(),
        Position(person_id=mayor.id, organisation_id=org["id"], title="Maire", kind=PositionKind.ELECTED),
        Position(
            person_id=former_dgs.id,
            organisation_id=org["id"],
            title="DGS",
            kind=PositionKind.STAFF,
            started_on=date(2018, 1, 1),
            ended_on=date(2022, 6, 30),
        ),
        Position(person_id=stranger.id, organisation_id=other["id"], title="Maire", kind=PositionKind.ELECTED),
    )

    def delivery(campaign: str, person: Person, sent: datetime, status: DeliveryStatus) -> Delivery:
        return Delivery(
            campaign_id=campaigns[campaign].id,
            person_id=person.id,
            email=f"{person.last_name.lower()}@example.org",
            status=status,
            next_attempt_at=sent,
            sent_at=sent if status != DeliveryStatus.QUEUED else None,
        )

    may_2025 = datetime(2025, 5, 12, 9, tzinfo=UTC)
    await insert(
        settings,
        delivery("Lettre 2021", former_dgs, datetime(2021, 5, 12, 9, tzinfo=UTC), DeliveryStatus.SENT),
        delivery("Lettre 2025", former_dgs, may_2025, DeliveryStatus.SENT),  # she had left
        delivery("Lettre 2025", mayor, may_2025, DeliveryStatus.BOUNCED),
        delivery("Lettre 2025", stranger, may_2025, DeliveryStatus.SENT),  # another member's mayor
    )

    response = await admin_client.get(f"{ORGS}/{org['id']}/campaigns")
    assert response.status_code == 200, response.text
    body = response.json()
    received = [(i["campaign_name"], i["person_name"], i["status"]) for i in body["items"]]
    # Newest first; whether it arrived is said.
    assert received == [
        ("Lettre 2025", "Stéphane Sbraggia", "bounced"),
        ("Lettre 2021", "Marie N'Diaye", "sent"),
    ]
    assert body["total"] == 2
    assert body["items"][1]["subject"] == "Les nouvelles : Lettre 2021"
    assert (await admin_client.get(f"{ORGS}/{campaigns['Lettre 2021'].id}/campaigns")).status_code == 404
