"""The Atlaas as users notice it: French searches find what they mean, facet counts tell the truth,
nothing unpublished is ever seen by the public, and imports are checked then all-or-nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm.config import Settings
from crm.db.models import Action, LabelAward, Organisation, OrganisationKind, Person, Theme
from crm.domain.atlaas.imports import insert_many
from crm.domain.atlaas.search import FACETS
from crm.lib import links

# (INSEE code, name, population, département, région) of real communes.
CITIES = (
    ("29019", "Brest", 139_342, "29", "53"),
    ("35238", "Rennes", 222_485, "35", "53"),
    ("69123", "Lyon", 522_250, "69", "84"),
    ("2A004", "Ajaccio", 73_000, "2A", "94"),
    ("05061", "Gap", 40_000, "05", "93"),
)

# The fixed set of actions the relevance queries look for, among filler actions.
ACTIONS = {
    "mediatheque": ("Médiathèque connectée et prêt de liseuses", "Une médiathèque ouverte le dimanche"),
    "ecole": ("École numérique : tablettes en classe", "Équiper les écoles élémentaires"),
    "opendata": ("Portail open data des données budgétaires", "Publier les jeux de données de la ville"),
    "tiers": ("Tiers-lieu et fablab de quartier", "Imprimantes 3D et ateliers de réparation"),
    "mediation": ("Conseillers numériques en mairie", "Médiation numérique pour les seniors"),
    "wifi": ("Wi-Fi public gratuit sur les places", "Des bornes d'accès dans le centre-ville"),
    "cyber": ("Plan de cybersécurité des services", "Sensibilisation des agents au hameçonnage"),
}
# query -> the action expected on the first page
QUERIES = {
    "médiathèques": "mediatheque",
    "MEDIATHEQUE": "mediatheque",
    "ecole numerique": "ecole",
    "écoles": "ecole",
    "donnees budgetaires": "opendata",
    "open data": "opendata",
    "tiers lieux": "tiers",
    "fablabs": "tiers",
    "conseiller numérique": "mediation",
    "médiation seniors": "mediation",
    "wifi": "wifi",
    "cybersecurite": "cyber",
    "hameconnage": "cyber",
    "tablet": "ecole",  # a word being typed
}
FILLER = 150


async def _catalogue(settings: Settings) -> dict[str, Any]:
    """Cities with their organisations (one labelled), a small theme tree, the fixed actions and
    filler actions, all published but one draft."""
    from crm.lib.services import alchemy_config, open_session

    config = alchemy_config(settings)
    ids: dict[str, Any] = {}
    async with open_session(config) as session:
        orgs = []
        for code, name, population, dep, reg in CITIES:
            org = Organisation(
                kind=OrganisationKind.COMMUNE,
                name=name,
                insee_code=code,
                population=population,
                departement_code=dep,
                region_code=reg,
            )
            session.add(org)
            orgs.append(org)
        await session.flush()
        session.add(LabelAward(organisation_id=orgs[0].id, year=2025, level=4, green=False))
        person = Person(first_name="Camille", last_name="Martin", email="camille.martin@example.org")
        session.add(person)
        axe = Theme(name="Services aux habitants", level=1)
        session.add(axe)
        await session.flush()
        enjeu = Theme(name="Accès au numérique", level=2, parent_id=axe.id)
        session.add(enjeu)
        await session.flush()
        usages = []
        for name in ("Culture", "Éducation", "Inclusion"):
            usage = Theme(name=name, level=3, parent_id=enjeu.id)
            session.add(usage)
            usages.append(usage)
        await session.flush()
        services = []
        for usage in usages:
            service = Theme(name=f"Service {usage.name}", level=4, parent_id=usage.id)
            session.add(service)
            services.append(service)
        await session.flush()
        rows = []
        for i, (_key, (title, subtitle)) in enumerate(ACTIONS.items()):
            code = CITIES[i % len(CITIES)][0]
            rows.append(
                {
                    "title": title,
                    "subtitle": subtitle,
                    "year": 2018 + i % 6,
                    "synthesis": f"{subtitle}. Un projet porté par la commune.",
                    "status": "published",
                    "places": [{"insee_code": code}],
                    "organisation_ids": [orgs[i % len(orgs)].id],
                    "theme_ids": [services[i % 3].id],
                    "people": [{"person_id": person.id, "role": "adjointe au numérique"}],
                }
            )
        for i in range(FILLER):
            code = CITIES[i % len(CITIES)][0]
            rows.append(
                {
                    "title": f"Démarche numérique n° {i}",
                    "subtitle": "Dématérialisation des démarches administratives",
                    "year": 2015 + i % 10,
                    "synthesis": "Les habitants font leurs démarches en ligne depuis le portail de la ville.",
                    "status": "published",
                    "places": [{"insee_code": code}] + ([{"insee_code": CITIES[(i + 1) % 5][0]}] if i % 7 == 0 else []),
                    "organisation_ids": [orgs[i % len(orgs)].id],
                    "theme_ids": [services[i % 3].id] if i % 4 else [usages[i % 3].id],
                }
            )
        rows.append(
            {
                "title": "Brouillon secret de médiathèque",
                "year": 2024,
                "status": "draft",
                "places": [{"insee_code": "29019"}],
                "organisation_ids": [orgs[0].id],
                "theme_ids": [services[0].id],
            }
        )
        action_ids = await insert_many(session, rows)
        ids |= {
            "orgs": [o.id for o in orgs],
            "person": person.id,
            "services": [s.id for s in services],
            "axe": axe.id,
            "fixed": dict(zip(ACTIONS, action_ids, strict=False)),
            "draft": action_ids[-1],
        }
    await config.get_engine().dispose()
    return ids


async def test_french_queries_find_the_expected_action_on_the_first_page(client: Any, settings: Settings) -> None:
    ids = await _catalogue(settings)
    for query, key in QUERIES.items():
        response = await client.get("/api/v1/atlaas/actions", params={"q": query, "limit": 20})
        assert response.status_code == 200, response.text
        found = [item["id"] for item in response.json()["items"]]
        assert str(ids["fixed"][key]) in found, f"{query!r} should find {ACTIONS[key][0]!r}"
    # Results show their city and themes, and link to the action's own page.
    body = (await client.get("/api/v1/atlaas/actions", params={"q": "médiathèques"})).json()
    first = body["items"][0]
    assert first["id"] == str(ids["fixed"]["mediatheque"])
    assert first["city"] == "Brest (29)"
    assert first["themes"][0]["path"] == ["Services aux habitants", "Accès au numérique", "Culture", "Service Culture"]
    page = await client.get(urlsplit(first["url"]).path)
    assert page.status_code == 200
    assert "Médiathèque connectée" in page.text
    assert "Camille Martin" in page.text
    html = await client.get("/atlaas", params={"q": "ecole numerique"})
    assert html.status_code == 200
    assert "École numérique : tablettes en classe" in html.text
    # Typed operators are words, not syntax.
    assert (await client.get("/api/v1/atlaas/actions", params={"q": "wifi & | ! :*("})).status_code == 200


async def test_facet_counts_equal_the_totals_of_the_filtered_searches(client: Any, settings: Settings) -> None:
    ids = await _catalogue(settings)
    base = {"q": "numerique", "theme": str(ids["axe"])}
    body = (await client.get("/api/v1/atlaas/actions", params=base | {"limit": 1})).json()
    assert body["total"] > 100
    assert set(body["facets"]) == set(FACETS)
    checked = 0
    for facet, values in body["facets"].items():
        if facet == "theme":
            values = [v for v in values if v["value"] != base["theme"]]
        for value in values:
            narrowed = await client.get("/api/v1/atlaas/actions", params=base | {facet: value["value"], "limit": 1})
            assert narrowed.status_code == 200, narrowed.text
            assert narrowed.json()["total"] == value["count"], (facet, value)
            checked += 1
    assert checked > 15
    # The labelled city's actions are counted under its level; the other cities' as not labelled.
    levels = {v["value"]: v["count"] for v in body["facets"]["label_level"]}
    assert set(levels) == {"0", "4"}
    # Paging on the server: pages do not overlap and cover the total.
    seen: set[str] = set()
    for offset in range(0, body["total"], 50):
        items = (await client.get("/api/v1/atlaas/actions", params=base | {"limit": 50, "offset": offset})).json()
        seen |= {i["id"] for i in items["items"]}
    assert len(seen) == body["total"]


@asynccontextmanager
async def _visitor(client: Any) -> AsyncIterator[Any]:
    """The same test client as someone with no session: no cookie, no CSRF header."""
    cookies, headers = dict(client.cookies), dict(client.headers)
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    try:
        yield client
    finally:
        client.cookies.update(cookies)
        client.headers.update(headers)


async def _public_sees(client: Any, action_id: UUID, words: str) -> dict[str, bool]:
    api = await client.get("/api/v1/atlaas/actions", params={"q": words, "limit": 100})
    html = await client.get("/atlaas", params={"q": words})
    csv = await client.get("/atlaas/export.csv", params={"q": words})
    return {
        "search": str(action_id) in {i["id"] for i in api.json()["items"]},
        "api": (await client.get(f"/api/v1/atlaas/actions/{action_id}")).status_code == 200,
        "page": (await client.get(f"/atlaas/actions/{action_id}")).status_code == 200,
        "html search": str(action_id) in html.text,
        "export": str(action_id) in csv.text,
    }


async def test_nothing_unpublished_is_ever_public_and_proposals_wait_for_staff(
    admin_client: Any, settings: Settings, engine: AsyncEngine
) -> None:
    client = admin_client
    ids = await _catalogue(settings)
    # A draft made by staff: in the staff's list, nowhere public (API, page, search page, export).
    assert not any((await _public_sees(client, ids["draft"], "brouillon secret")).values())
    staff = (await client.get("/api/v1/actions", params={"q": "brouillon secret"})).json()
    assert [i["id"] for i in staff["items"]] == [str(ids["draft"])]
    # Facet counts of the public search leave the draft out too.
    public = (await client.get("/api/v1/atlaas/actions", params={"q": "médiathèque"})).json()
    assert public["total"] == 1
    assert sum(v["count"] for v in public["facets"]["year"]) == 1

    # A member's contact proposes a new action through a signed link, without an account.
    made = await client.post(
        "/api/v1/actions/proposals/links",
        json={"person_id": str(ids["person"]), "organisation_id": str(ids["orgs"][1])},
    )
    assert made.status_code == 200, made.text
    path = urlsplit(made.json()["url"]).path
    async with _visitor(client) as visitor:
        form = await visitor.get(path)
        assert form.status_code == 200
        assert "Proposer une action" in form.text
        bad = await visitor.post(path, data={"title": "Visio-guichet", "year": "2024", "insee_codes": "35000"})
        assert bad.status_code == 422
        assert "35000" in bad.text
        sent = await visitor.post(
            path,
            data={
                "title": "Visio-guichet en mairie annexe",
                "year": "2024",
                "insee_codes": "35238",
                "synthesis": "Un guichet à distance pour les démarches.",
                "theme_ids": str(ids["services"][2]),
            },
        )
        assert sent.status_code == 200, sent.text
        assert (await visitor.get(path.replace("/atlaas/proposer/", "/atlaas/proposer/x"))).status_code == 400
    queue = (await client.get("/api/v1/actions/proposals")).json()
    assert queue["total"] == 1
    proposal = queue["items"][0]
    changed = {c["field"]: c for c in proposal["changes"]}
    assert changed["title"] == {"field": "title", "before": None, "after": "Visio-guichet en mairie annexe"}
    assert changed["places"]["after"] == ["35238"]
    async with AsyncSession(engine) as session:
        assert await session.scalar(select(func.count()).where(Action.title.like("Visio%"))) == 0
    assert (await client.get("/api/v1/atlaas/actions", params={"q": "visio guichet"})).json()["total"] == 0

    accepted = await client.post(f"/api/v1/actions/proposals/{proposal['id']}/accept", json={"note": "Merci"})
    assert accepted.status_code == 200, accepted.text
    new_id = UUID(accepted.json()["action_id"])
    assert all((await _public_sees(client, new_id, "visio guichet")).values())
    again = await client.post(f"/api/v1/actions/proposals/{proposal['id']}/reject", json={})
    assert again.status_code == 409

    # Changes proposed to a published action stay unseen until accepted, shown as a diff.
    link = links.atlaas_proposal_url(settings, ids["person"], ids["orgs"][1], new_id)
    async with _visitor(client) as visitor:
        form = await visitor.get(urlsplit(link).path)
        assert "Visio-guichet en mairie annexe" in form.text  # prefilled
        sent = await visitor.post(
            urlsplit(link).path,
            data={"title": "Visio-guichet dans trois mairies annexes", "year": "2024", "insee_codes": "35238"},
        )
        assert sent.status_code == 200
    pending = (await client.get("/api/v1/actions/proposals")).json()["items"][0]
    changed = {c["field"]: c for c in pending["changes"]}
    assert changed["title"]["before"] == "Visio-guichet en mairie annexe"
    assert changed["title"]["after"] == "Visio-guichet dans trois mairies annexes"
    public = (await client.get(f"/api/v1/atlaas/actions/{new_id}")).json()
    assert public["title"] == "Visio-guichet en mairie annexe"
    # Unpublished again: gone from every public place.
    assert (await client.post(f"/api/v1/actions/{new_id}/unpublish")).status_code == 200
    assert not any((await _public_sees(client, new_id, "visio guichet")).values())


async def test_import_reports_by_row_and_column_then_applies_all_or_nothing(
    admin_client: Any, settings: Settings, engine: AsyncEngine
) -> None:
    client = admin_client
    await _catalogue(settings)
    header = "title;year;insee_codes;themes;organisations;synthesis\r\n"
    good = "Budget participatif en ligne;2023;29019;Services aux habitants > Accès au numérique > Inclusion;;Vote\r\n"
    bad = "Sans année;;35000;Thème inconnu;;\r\n"
    csv_file = (header + good + bad).encode()

    async def actions() -> int:
        async with AsyncSession(engine) as session:
            return int(await session.scalar(select(func.count()).select_from(Action)) or 0)

    before = await actions()
    dry = await client.post("/api/v1/actions/import", content=csv_file, headers={"content-type": "text/csv"})
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["rows"] == 2
    assert report["valid"] == 1
    assert {(e["line"], e["column"]) for e in report["errors"]} == {(3, "year"), (3, "insee_codes"), (3, "themes")}
    applied = await client.post(
        "/api/v1/actions/import", params={"dry_run": "false"}, content=csv_file, headers={"content-type": "text/csv"}
    )
    assert applied.status_code == 422
    assert await actions() == before
    done = await client.post(
        "/api/v1/actions/import",
        params={"dry_run": "false", "publish": "true"},
        json=[{"title": "Budget participatif en ligne", "year": 2023, "insee_codes": ["29019"], "synthesis": "Vote"}],
    )
    assert done.status_code == 200, done.text
    assert done.json()["created"] == 1
    assert await actions() == before + 1
    found = (await client.get("/api/v1/atlaas/actions", params={"q": "budgets participatifs"})).json()
    assert found["total"] == 1
    assert found["items"][0]["city"] == "Brest (29)"
    # The export of a search, imported again, changes nothing.
    export = await client.get("/api/v1/actions/export.csv", params={"q": "budget participatif"})
    assert export.status_code == 200
    assert "Budget participatif en ligne" in export.text
    again = await client.post(
        "/api/v1/actions/import",
        params={"dry_run": "false", "publish": "true"},
        content=export.content,
        headers={"content-type": "text/csv"},
    )
    assert again.status_code == 200, again.text
    assert again.json()["updated"] == 1
    assert await actions() == before + 1


@pytest.mark.parametrize("field", ["places.0.insee_code", "organisation_ids.0"])
async def test_staff_writes_name_the_field_at_fault(admin_client: Any, settings: Settings, field: str) -> None:
    ids = await _catalogue(settings)
    body = {
        "title": "Atelier",
        "year": 2024,
        "places": [{"insee_code": "35000" if field.startswith("places") else "35238"}],
        "organisation_ids": [str(ids["person"]) if field.startswith("organisation") else str(ids["orgs"][0])],
    }
    response = await admin_client.post("/api/v1/actions", json=body)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}
