"""The staff admin in a real browser: Debian's Chromium driven by Playwright, against the service
running in its own process on the test database with the demo data, as staff would use it.

Every test leaves a screenshot of the page it judged under var/screenshots/ (kept out of git):
they are how a user first judges the product."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from playwright.async_api import expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.config import Settings
from crm.db.models.staff import StaffRole
from crm.embedded import free_port
from tests.conftest import PASSWORD, StaffAccount
from tests.smtp import SmtpSink

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CRM_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "var" / "screenshots"
# As the machine's own probe starts it: no sandbox as root, and no calls to the outside.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_TIMEOUT = 120.0
UI_TIMEOUT_MS = 30_000  # a loaded 2-core machine renders slowly; waits end as soon as the page is there


def _required(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide {what}")
    pytest.skip(f"{what} is not installed here")


@pytest.fixture(scope="module")
def built_admin() -> None:
    from crm import adminui

    try:
        adminui.build()
    except adminui.AdminBuildError as error:
        _required(f"Node.js and npm to build the admin ({error})")


@pytest.fixture
async def clean_state() -> None:
    """The tests of this module share one demo database, seeded once below."""


@pytest.fixture(scope="module")
async def demo(base_settings: Settings, engine: AsyncEngine, redis_url: str) -> dict[str, StaffAccount]:
    from crm.demo import seed_demo_database
    from crm.lib.redis import connect_redis

    async with engine.begin() as conn:
        tables = (
            await conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                    " AND tablename NOT LIKE 'ref\\_%'"
                )
            )
        ).scalars()
        await conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
    redis = connect_redis(redis_url)
    await redis.flushdb()
    await redis.aclose()
    await seed_demo_database(base_settings)

    from crm.db.models.staff import Staff
    from crm.lib.security import hash_password
    from crm.lib.services import alchemy_config, open_session

    accounts = {}
    config = alchemy_config(base_settings)
    async with open_session(config) as session:
        for role, name in ((StaffRole.ADMIN, "Claire Admin"), (StaffRole.VIEWER, "Victor Lecteur")):
            email = f"{role.value}.browser@example.org"
            staff = Staff(email=email, name=name, role=role, password_hash=hash_password(PASSWORD), is_active=True)
            session.add(staff)
            await session.flush()
            accounts[role.value] = StaffAccount(str(staff.id), email, PASSWORD, role)
    await config.get_engine().dispose()
    return accounts


@pytest.fixture(scope="module")
def server(
    built_admin: None, demo: dict[str, StaffAccount], base_settings: Settings, smtp_server: SmtpSink
) -> Iterator[str]:
    """`crm serve` and `crm worker` in their own processes, stopped with SIGTERM whatever happens."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        CRM_DATABASE_URL=base_settings.database_url,
        CRM_REDIS_URL=base_settings.redis_url,
        CRM_SMTP_URL=f"smtp://127.0.0.1:{smtp_server.port}",
        CRM_SECURITY_SECRET_KEY=base_settings.security.secret_key.get_secret_value(),
        CRM_SECURITY_SECURE_COOKIES="false",
        CRM_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    command = [sys.executable, "-m", "crm.cli"]
    processes = [
        subprocess.Popen([*command, "serve", "--port", str(port)], env=env, cwd=ROOT),
        subprocess.Popen([*command, "worker"], env=env, cwd=ROOT),
    ]
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            assert all(p.poll() is None for p in processes), "the service stopped while starting"
            try:
                if httpx.get(f"{url}/health/live").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.2)
        yield url
    finally:
        for process in processes:
            family = [process, *psutil.Process(process.pid).children(recursive=True)] if process.poll() is None else []
            for member in family:
                member.send_signal(signal.SIGTERM)
            for member in family:
                try:
                    member.wait(30)
                except psutil.TimeoutExpired:
                    member.kill()


@pytest.fixture(scope="module")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        _required(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(chromium_path: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def new_page(browser: Any, width: int = 1366, height: int = 900) -> Any:
    context = await browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = await context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


async def log_in(page: Any, url: str, account: StaffAccount) -> None:
    await page.goto(f"{url}/admin/")
    await page.get_by_role("textbox", name="Adresse e-mail").fill(account.email)
    await page.get_by_role("textbox", name="Mot de passe").fill(account.password)
    await page.get_by_role("button", name="Connexion").click()
    await page.get_by_test_id("role").wait_for()


async def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def test_root_leads_to_the_admin_and_staff_log_in_to_the_dashboard(
    server: str, browser: Any, demo: dict[str, StaffAccount]
) -> None:
    async with httpx.AsyncClient() as client:
        root = await client.get(f"{server}/")
    assert root.status_code in (301, 302, 307, 308)
    assert root.headers["location"].rstrip("/").endswith("/admin")

    page = await new_page(browser)
    scripts: list[str] = []
    page.on("request", lambda request: scripts.append(request.url) if request.url.endswith(".js") else None)
    await page.goto(f"{server}/admin/")
    await screenshot(page, "00-login")
    await page.get_by_role("textbox", name="Adresse e-mail").fill(demo["admin"].email)
    await page.get_by_role("textbox", name="Mot de passe").fill("not the password")
    await page.get_by_role("button", name="Connexion").click()
    # The API's problem, in French from its code.
    await page.get_by_text("Adresse e-mail ou mot de passe incorrect").wait_for()

    await log_in(page, server, demo["admin"])
    assert await page.get_by_test_id("role").inner_text() == "Administrateur·rice"
    await page.get_by_role("heading", name="Membres par statut").wait_for()
    await page.get_by_role("heading", name="Adhérents par région").wait_for()
    await page.get_by_text("cotisations", exact=False).first.wait_for()
    await page.locator(".recharts-surface").first.wait_for()
    await screenshot(page, "01-dashboard")
    assert page.errors == []
    # The first load brings the dashboard, not the heavy screens: they load when first opened.
    loaded = " ".join(scripts)
    assert "/assets/charts-" in loaded
    assert not any(f"/assets/{screen}-" in loaded for screen in ("campaigns", "segments", "imports"))


async def test_staff_filter_members_by_region(server: str, browser: Any, demo: dict[str, StaffAccount]) -> None:
    page = await new_page(browser)
    await log_in(page, server, demo["admin"])
    await page.get_by_role("menuitem", name="Membres").click()
    await page.get_by_role("combobox", name="Région").click()
    await page.get_by_role("option", name="Corse (94)").click()
    await expect(page).to_have_url(re.compile("region_code"), timeout=UI_TIMEOUT_MS)
    rows = page.locator("table tbody tr")
    await rows.first.wait_for()
    await page.wait_for_function(
        "() => [...document.querySelectorAll('table tbody tr')].every(r => r.innerText.includes('Corse'))"
    )
    regions = await rows.locator("td.column-region_name").all_inner_texts()
    assert regions
    assert set(regions) == {"Corse"}
    await screenshot(page, "02-members-corse")

    # The forgiving search goes through the API's q=.
    await page.get_by_role("textbox", name="Rechercher").fill("ajac")
    await page.get_by_role("cell", name="Ajaccio").wait_for()
    assert page.errors == []


async def test_create_a_member_from_its_insee_code_with_the_official_data_shown_first(
    server: str, browser: Any, demo: dict[str, StaffAccount], engine: AsyncEngine
) -> None:
    # A Corsican commune the demo does not hold yet (its members and the Atlaas's other communes).
    async with engine.connect() as conn:
        corsican = (
            await conn.execute(
                text(
                    "SELECT insee_code, name FROM ref_commune c WHERE departement_code = '2A' AND kind = 'COM' "
                    "AND NOT EXISTS (SELECT 1 FROM organisation o WHERE o.insee_code = c.insee_code) "
                    "ORDER BY population DESC NULLS LAST, insee_code LIMIT 1"
                )
            )
        ).one()
    page = await new_page(browser)
    await log_in(page, server, demo["admin"])
    await page.goto(f"{server}/admin/#/organisations/create")
    await page.get_by_role("textbox", name="Code INSEE").fill("2A004")
    preview = page.get_by_test_id("lookup-preview")
    await preview.get_by_text("Ajaccio").wait_for()
    assert "Corse-du-Sud" in await preview.inner_text()
    await screenshot(page, "03-member-create-preview")

    # Ajaccio is already a member in the demo: the API's 409 is shown and nothing typed is lost.
    await page.get_by_role("textbox", name="Notes").fill("Rencontre au congrès")
    await page.get_by_role("button", name="Enregistrer").click()
    await page.get_by_text("Déjà utilisé", exact=False).first.wait_for()
    assert await page.get_by_role("textbox", name="Notes").input_value() == "Rencontre au congrès"

    # This one is not: it is created with the official name, département and région.
    await page.get_by_role("textbox", name="Code INSEE").fill(corsican.insee_code)
    await preview.get_by_text(corsican.name, exact=True).wait_for()
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page).to_have_url(re.compile(r"#/organisations/[^/]+/show"), timeout=UI_TIMEOUT_MS)
    await page.get_by_role("tab", name="Fiche").wait_for()
    await page.get_by_text("Rencontre au congrès").wait_for()
    body = await page.locator("main").inner_text()
    assert "Corse-du-Sud" in body
    assert "Rencontre au congrès" in body
    await screenshot(page, "04-member-show")
    assert page.errors == []


async def test_an_expired_session_goes_back_to_login_and_keeps_what_was_typed(
    server: str, browser: Any, demo: dict[str, StaffAccount]
) -> None:
    page = await new_page(browser)
    await log_in(page, server, demo["admin"])
    await page.goto(f"{server}/admin/#/people/create")
    await page.get_by_role("textbox", name="Prénom").fill("Anne-Sophie")
    await page.get_by_role("textbox", name="Nom", exact=True).fill("N’Diaye")
    await page.context.clear_cookies()  # the session is gone, as after a long lunch
    await page.get_by_role("button", name="Enregistrer").click()
    await page.get_by_role("button", name="Connexion").wait_for()

    await log_in(page, server, demo["admin"])
    await page.goto(f"{server}/admin/#/people/create")
    await page.get_by_text("Saisie non enregistrée restaurée").wait_for()
    assert await page.get_by_role("textbox", name="Prénom").input_value() == "Anne-Sophie"
    assert await page.get_by_role("textbox", name="Nom", exact=True).input_value() == "N’Diaye"
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page).to_have_url(re.compile(r"#/people/[^/]+/show"), timeout=UI_TIMEOUT_MS)
    await page.get_by_text("N’Diaye").first.wait_for()
    await screenshot(page, "05-person-show")


async def test_a_viewer_reads_but_cannot_reach_the_staff_page_or_write(
    server: str, browser: Any, demo: dict[str, StaffAccount]
) -> None:
    page = await new_page(browser)
    await log_in(page, server, demo["viewer"])
    assert await page.get_by_test_id("role").inner_text() == "Lecteur·rice"
    menu = await page.get_by_role("menuitem").all_inner_texts()
    assert "Membres" in menu
    assert "Équipe" not in menu
    assert "Journal" not in menu
    await page.goto(f"{server}/admin/#/organisations")
    await page.locator("table tbody tr").first.wait_for()
    assert await page.get_by_role("link", name="Créer").count() == 0
    await page.goto(f"{server}/admin/#/staff")
    await page.get_by_text("autorisé", exact=False).first.wait_for()
    await screenshot(page, "06-viewer-staff-denied")


async def api_client(url: str, account: StaffAccount) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=f"{url}/api/v1")
    login = await client.post("/auth/login", json={"email": account.email, "password": account.password})
    assert login.status_code == 201, login.text
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    return client


async def small_list(api: httpx.AsyncClient, engine: AsyncEngine, size: int) -> tuple[str, list[str]]:
    """A list with `size` demo people who have an address, subscribed for their professional role."""
    created = await api.post("/lists", json={"name": "Lettre des DSI", "slug": "lettre-dsi", "double_opt_in": False})
    assert created.status_code == 201, created.text
    async with engine.connect() as conn:
        people = (
            (
                await conn.execute(
                    text("SELECT id FROM person WHERE email IS NOT NULL ORDER BY last_name LIMIT :n"), {"n": size}
                )
            )
            .scalars()
            .all()
        )
    for person_id in people:
        subscribed = await api.post(
            "/subscriptions",
            json={"person_id": str(person_id), "list_id": created.json()["id"], "legal_basis": "legitimate_interest"},
        )
        assert subscribed.status_code == 201, subscribed.text
    return created.json()["id"], [str(p) for p in people]


async def test_compose_a_campaign_with_a_live_preview_test_it_send_it_and_watch_it_finish(
    server: str, browser: Any, demo: dict[str, StaffAccount], engine: AsyncEngine, smtp_server: SmtpSink
) -> None:
    api = await api_client(server, demo["admin"])
    list_id, people = await small_list(api, engine, 4)
    campaign = await api.post(
        "/campaigns", json={"name": "Lettre de décembre", "subject": "Les nouvelles du réseau", "list_id": list_id}
    )
    assert campaign.status_code == 201, campaign.text
    campaign_id = campaign.json()["id"]
    await api.aclose()

    page = await new_page(browser)
    await log_in(page, server, demo["admin"])
    await page.goto(f"{server}/admin/#/campaigns/{campaign_id}")
    preview = page.frame_locator("[data-testid=campaign-preview]")
    await preview.get_by_text("Les nouvelles du réseau").first.wait_for()

    # Typing changes the real rendered e-mail beside the form.
    await page.get_by_role("textbox", name="Objet").fill("Invitation au congrès des élus")
    await preview.get_by_text("Invitation au congrès des élus").first.wait_for()
    await page.get_by_role("button", name="Ajouter").click()
    await page.get_by_role("combobox", name="Bloc").click()
    await page.get_by_role("option", name="Texte").click()
    await page.get_by_role("textbox", name="Texte", exact=True).fill(
        "Bonjour {{ first_name }}, le congrès aura lieu à Martigues."
    )
    await preview.get_by_text("le congrès aura lieu à Martigues").wait_for()
    await screenshot(page, "07-campaign-compose")
    await page.set_viewport_size({"width": 800, "height": 1000})
    await page.get_by_role("button", name="Téléphone").click()
    await screenshot(page, "08-campaign-compose-tablet-phone-preview")

    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page).to_have_url(re.compile(rf"#/campaigns/{campaign_id}/show"), timeout=UI_TIMEOUT_MS)
    await page.get_by_test_id("campaign-audience").get_by_text("4 destinataires").wait_for()

    smtp_server.clear()
    await page.get_by_role("button", name="M’envoyer un test").click()
    await page.get_by_text("Test envoyé à votre adresse").wait_for()
    test_mail = await wait_for_mail(smtp_server, demo["admin"].email)
    assert "Invitation au congrès des élus" in test_mail.message["Subject"]

    await page.get_by_role("button", name="Envoyer maintenant").click()
    progress = page.get_by_test_id("campaign-progress")
    await expect(progress).to_have_attribute("data-percent", "100", timeout=120_000)
    await page.get_by_text("Terminée").first.wait_for()
    await screenshot(page, "09-campaign-sent")
    delivered = {r for m in smtp_server.messages for r in m.recipients}
    async with engine.connect() as conn:
        addresses = set(
            (await conn.execute(text("SELECT email FROM person WHERE id = ANY(:ids)"), {"ids": people})).scalars()
        )
    assert addresses <= delivered
    assert page.errors == []


async def wait_for_mail(sink: SmtpSink, recipient: str) -> Any:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for received in list(sink.messages):
            if recipient in received.recipients:
                return received
        await asyncio.sleep(0.2)
    raise AssertionError(f"no message reached {recipient}")


async def test_check_people_in_at_an_event_on_a_tablet(
    server: str, browser: Any, demo: dict[str, StaffAccount], engine: AsyncEngine
) -> None:
    from tests.events_helpers import invite, paris_noon

    api = await api_client(server, demo["admin"])
    start = paris_noon(3)
    event = await api.post(
        "/events",
        json={
            "kind": "congress",
            "title": "Congrès des élus au numérique",
            "starts_at": start.isoformat(),
            "ends_at": start.replace(hour=18).isoformat(),
            "venue_name": "Palais des congrès",
            "capacity": 200,
        },
    )
    assert event.status_code == 201, event.text
    await api.aclose()
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, last_name FROM person ORDER BY last_name LIMIT 3"))).all()
    await invite(engine, event.json()["id"], [(r[0], "invited") for r in rows])

    page = await new_page(browser, width=1024, height=768)  # a tablet at the door, landscape
    await log_in(page, server, demo["admin"])
    await page.goto(f"{server}/admin/#/events/{event.json()['id']}/show")
    first_name = rows[0][1]
    await page.get_by_role("textbox", name="Chercher un nom").fill(first_name)
    button = page.get_by_role("button", name=re.compile(f"^Pointer .*{re.escape(first_name)}"))
    await button.first.click()
    await page.get_by_role("button", name=re.compile("^Présent·e")).first.wait_for()
    await screenshot(page, "10-event-check-in")
    async with engine.connect() as conn:
        checked = (
            await conn.execute(
                text("SELECT count(*) FROM invitation WHERE event_id = :event AND checked_in_at IS NOT NULL"),
                {"event": event.json()["id"]},
            )
        ).scalar()
    assert checked == 1


async def test_build_a_segment_and_watch_its_count_change(
    server: str, browser: Any, demo: dict[str, StaffAccount]
) -> None:
    page = await new_page(browser)
    await log_in(page, server, demo["admin"])
    await page.goto(f"{server}/admin/#/segments/create")
    await page.get_by_role("textbox", name="Nom").fill("Élus des adhérents corses")
    count = page.get_by_test_id("segment-count")
    await expect(count).to_have_text(re.compile(r"^\d[\d\u202f ]* personnes?$"), timeout=UI_TIMEOUT_MS)
    members_only = await count.inner_text()

    # A second rule, AND-ed: only people of members in Corse.
    await page.get_by_role("button", name="Ajouter un critère").click()
    await page.get_by_role("combobox", name="Critère").nth(1).click()
    await page.get_by_role("option", name="Région").click()
    await page.get_by_role("combobox", name="Valeur").nth(1).click()
    await page.get_by_role("option", name="Corse (94)").click()
    await page.keyboard.press("Escape")
    await expect(count).not_to_have_text(members_only, timeout=UI_TIMEOUT_MS)
    corsica = int(re.sub(r"\D", "", await count.inner_text()))
    assert 0 < corsica < int(re.sub(r"\D", "", members_only))
    await screenshot(page, "11-segment-builder")
    await page.get_by_role("button", name="Enregistrer").click()
    await page.get_by_text("Élément créé").wait_for()
    assert page.errors == []


async def test_import_a_file_as_offices_make_them_and_read_the_report(
    server: str, browser: Any, demo: dict[str, StaffAccount], tmp_path: Path
) -> None:
    bad = tmp_path / "contacts-mairies.csv"
    bad.write_bytes(
        "Prénom;Nom;Adresse électronique;Code INSEE;Fonction\r\n"
        "Jeanne;Leclerc;jeanne.leclerc@ville-bastia.fr;2B033;Adjointe au numérique\r\n"
        "Paul;Ferrandi;pas-une-adresse;2A004;DSI\r\n".encode("cp1252")
    )
    page = await new_page(browser)
    await log_in(page, server, demo["admin"])
    await page.goto(f"{server}/admin/#/imports")
    await page.get_by_test_id("import-file").set_input_files(str(bad))
    await page.get_by_role("button", name="Vérifier le fichier").click()
    report = page.get_by_test_id("import-report")
    await report.wait_for()
    errors = page.get_by_role("table", name="Lignes en erreur")
    await errors.get_by_role("cell", name="3", exact=True).wait_for()
    assert "e-mail" in (await errors.inner_text()).lower()
    await errors.get_by_text("Adresse e-mail invalide", exact=False).wait_for()  # the reason, in French
    assert await page.get_by_role("button", name="Importer", exact=True).count() == 0
    await screenshot(page, "12-import-report")

    good = tmp_path / "contacts-corriges.csv"
    good.write_bytes(bad.read_bytes().replace(b"pas-une-adresse", b"paul.ferrandi@ajaccio.fr"))
    await page.get_by_role("button", name="Importer un autre fichier").click()
    await page.get_by_test_id("import-file").set_input_files(str(good))
    await page.get_by_role("button", name="Vérifier le fichier").click()
    await page.get_by_role("button", name="Importer", exact=True).click()
    await page.get_by_text("Import terminé").wait_for(timeout=120_000)
    await screenshot(page, "13-import-applied")
    assert page.errors == []


async def test_a_members_history_and_a_years_label_results(
    server: str, browser: Any, demo: dict[str, StaffAccount]
) -> None:
    page = await new_page(browser)
    await log_in(page, server, demo["admin"])
    await page.goto(f"{server}/admin/#/organisations")
    await page.get_by_role("textbox", name="Rechercher").fill("ajaccio")
    await page.get_by_role("cell", name="Ajaccio").click()
    await page.get_by_role("tab", name="Historique").click()
    timeline = page.get_by_test_id("timeline")
    await timeline.locator("li").first.wait_for()
    assert await timeline.locator("li").count() > 3
    await screenshot(page, "14-member-history")

    await page.get_by_role("menuitem", name="Résultats du label").click()
    await page.get_by_role("textbox", name="Résultats").fill("2B050;4;oui\n97411;@@@@@;non\n")
    await page.get_by_role("button", name="Vérifier").click()
    report = page.get_by_test_id("label-results-report")
    await expect(report).to_contain_text("À enregistrer", timeout=UI_TIMEOUT_MS)
    await page.get_by_role("button", name="Enregistrer les résultats").click()
    await expect(report).to_contain_text("Enregistré", timeout=UI_TIMEOUT_MS)
    await screenshot(page, "15-label-results")
    assert page.errors == []


async def test_an_admin_renames_the_association_and_the_public_pages_follow(
    server: str, browser: Any, demo: dict[str, StaffAccount]
) -> None:
    page = await new_page(browser)
    await log_in(page, server, demo["admin"])
    await page.get_by_role("menuitem", name="Paramètres").click()
    name = page.get_by_role("textbox", name="Nom de l’association")
    await name.fill("Réseau des territoires connectés")
    # The header preview follows the form as it is typed.
    await expect(page.get_by_test_id("preview-header")).to_contain_text("Réseau des territoires connectés")
    colour = page.get_by_role("textbox", name="Couleur")
    await colour.fill("#ffd700")
    await colour.blur()
    await page.get_by_text("Texte blanc peu lisible", exact=False).wait_for()
    await colour.fill("#7b2d26")
    await colour.blur()
    await expect(page.get_by_text("Texte blanc peu lisible", exact=False)).to_have_count(0)
    try:
        async with page.expect_response(
            lambda r: r.url.endswith("/api/v1/settings") and r.request.method == "PUT"
        ) as put:
            await page.get_by_role("button", name="Enregistrer").click()
    finally:
        await screenshot(page, "19-settings")
    answer = await put.value
    assert answer.status == 200, await answer.text()
    await page.get_by_text("Paramètres enregistrés", exact=False).wait_for()
    assert page.errors == []

    # The server process shows it on its next public page, without a restart.
    async with httpx.AsyncClient() as client:
        public = await client.get(f"{server}/subscribe")
    assert "Réseau des territoires connectés" in public.text
    assert "#7b2d26" in public.text


async def test_a_members_events_and_campaigns_and_the_board_on_a_chosen_day(
    server: str, browser: Any, demo: dict[str, StaffAccount], engine: AsyncEngine
) -> None:
    async with engine.connect() as conn:
        member = (
            await conn.execute(
                text(
                    "SELECT p.organisation_id FROM position p WHERE p.ended_on IS NULL"
                    " AND EXISTS (SELECT 1 FROM invitation i WHERE i.person_id = p.person_id)"
                    " AND EXISTS (SELECT 1 FROM delivery d WHERE d.person_id = p.person_id AND d.sent_at IS NOT NULL)"
                    " LIMIT 1"
                )
            )
        ).scalar_one()
    page = await new_page(browser)
    await log_in(page, server, demo["admin"])
    await page.goto(f"{server}/admin/#/organisations/{member}/show")
    await page.get_by_role("tab", name="Événements").click()
    await page.get_by_role("columnheader", name="Réponse").wait_for()
    await page.locator("table tbody tr").first.wait_for()
    await screenshot(page, "16-member-events")
    await page.get_by_role("tab", name="Campagnes reçues").click()
    await page.get_by_role("columnheader", name="Destinataire").wait_for()
    await page.get_by_role("cell", name="Envoyé", exact=True).first.wait_for()
    await screenshot(page, "17-member-campaigns")

    # The board today, then on a day before the demo's mandates began: nobody sat.
    await page.get_by_role("menuitem", name="Conseil d’administration").click()
    board = page.get_by_test_id("board-on-day")
    await board.get_by_text("Président·e").first.wait_for()
    await page.get_by_test_id("mandates-ending").wait_for()
    await screenshot(page, "18-board")
    await page.get_by_label("Date", exact=True).fill("2001-03-15")
    await page.get_by_role("heading", name="Le conseil au 15 mars 2001").wait_for()
    await page.get_by_text("Personne ne siégeait au conseil ce jour-là.").wait_for()
    assert page.errors == []


async def test_an_admin_sees_why_a_webhook_endpoint_was_disabled_enables_it_and_replays(
    server: str, browser: Any, demo: dict[str, StaffAccount], engine: AsyncEngine
) -> None:
    """An endpoint the partner answered 410 to (written as the worker leaves it): the reason shows,
    with each delivery's answer; the admin re-enables it and replays the failed delivery."""
    endpoint_id, now = uuid.uuid4(), datetime.now(UTC)
    async with engine.begin() as conn:
        partner = await conn.scalar(text("SELECT id FROM organisation WHERE is_partner ORDER BY name LIMIT 1"))
        await conn.execute(
            text(
                "INSERT INTO webhook_endpoint (id, organisation_id, url, event_types, secret, enabled, disabled_reason, "
                "disabled_at, created_at, updated_at) VALUES (:id, :org, 'https://crm.partenaire.example/hooks', "
                "ARRAY['contact.created','contact.updated'], 'whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=', "
                "false, 'The partner answered 410 Gone: it wants no more messages at this URL.', :now, :now, :now)"
            ),
            {"id": endpoint_id, "org": partner, "now": now},
        )
        for status, answer in (("sent", "200 OK: ok"), ("failed", "410 Gone: ")):
            await conn.execute(
                text(
                    "INSERT INTO webhook_delivery (id, endpoint_id, organisation_id, event_type, message_id, body, "
                    "status, attempts, next_attempt_at, smtp_response, created_at, updated_at) VALUES (gen_random_uuid(), "
                    ":endpoint, :org, 'contact.updated', :mid, '{}', CAST(:status AS webhook_delivery_status), 1, "
                    ":now, :answer, :now, :now)"
                ),
                {
                    "endpoint": endpoint_id,
                    "org": partner,
                    "mid": f"msg_{uuid.uuid4().hex}",
                    "status": status,
                    "answer": answer,
                    "now": now,
                },
            )
    page = await new_page(browser)
    await log_in(page, server, demo["admin"])
    await page.goto(f"{server}/admin/#/webhooks/{endpoint_id}/show")
    reason = page.get_by_test_id("webhook-disabled-reason")
    await reason.wait_for()
    assert "410" in await reason.inner_text()
    await page.get_by_text("410 Gone").first.wait_for()
    await screenshot(page, "21-webhook-disabled")
    await page.get_by_role("button", name="Réactiver").click()
    await page.get_by_role("button", name="Désactiver").wait_for()
    assert await page.get_by_test_id("webhook-disabled-reason").count() == 0
    await page.locator("tr", has_text="410 Gone").get_by_role("button", name="Renvoyer", exact=True).click()
    await page.get_by_text("Envoi relancé").wait_for()
    async with engine.connect() as conn:
        replays = await conn.scalar(text("SELECT count(*) FROM webhook_delivery WHERE replay_of_id IS NOT NULL"))
    assert replays == 1
    assert page.errors == []


async def test_survey_results_as_charts_and_the_label_jury_side_by_side(
    server: str, browser: Any, demo: dict[str, StaffAccount]
) -> None:
    page = await new_page(browser)
    await log_in(page, server, demo["admin"])
    await page.goto(f"{server}/admin/#/questionnaires")
    await page.get_by_role("cell", name="Enquête : le numérique dans la gestion de crise").click()
    await expect(page.get_by_text("Résultats (320 réponses envoyées)")).to_be_visible(timeout=UI_TIMEOUT_MS)
    await page.locator(".recharts-bar-rectangle").first.wait_for(timeout=UI_TIMEOUT_MS)
    await expect(page.get_by_text("Avez-vous activé une cellule de crise ?")).to_be_visible()
    await screenshot(page, "22-survey-builder-and-results")

    await page.goto(f"{server}/admin/#/questionnaires")
    await page.get_by_role("cell", name=re.compile(r"^Label – candidature \d{4}$")).click()
    jury = page.get_by_text("Notes du jury")
    await expect(jury).to_be_visible(timeout=UI_TIMEOUT_MS)
    await expect(page.get_by_role("cell", name=re.compile(r" : \d+")).first).to_be_visible()
    await screenshot(page, "23-label-jury-scores")
    assert page.errors == []


async def test_search_the_atlaas_and_accept_a_contacts_proposal(
    server: str, browser: Any, demo: dict[str, StaffAccount], engine: AsyncEngine
) -> None:
    # A contact's proposal waiting in the moderation queue (as the signed-link page stores it).
    async with engine.begin() as conn:
        person_id, organisation_id, insee_code = (
            await conn.execute(
                text(
                    "SELECT p.person_id, o.id, o.insee_code FROM position p JOIN organisation o"
                    " ON o.id = p.organisation_id WHERE o.kind = 'commune' AND p.ended_on IS NULL LIMIT 1"
                )
            )
        ).one()
        values = {"title": "Guichet numérique itinérant", "year": 2026, "places": [{"insee_code": insee_code}]}
        await conn.execute(
            text(
                "INSERT INTO atlaas_proposal (id, person_id, organisation_id, values, status, created_at, updated_at)"
                " VALUES (gen_random_uuid(), :person, :organisation, CAST(:values AS jsonb), 'pending', now(), now())"
            ),
            {"person": person_id, "organisation": organisation_id, "values": json.dumps(values)},
        )
    page = await new_page(browser)
    await log_in(page, server, demo["admin"])
    await page.get_by_role("menuitem", name="Atlaas", exact=True).click()
    await page.get_by_role("textbox", name="Rechercher").fill("médiathèques numériques")
    await page.get_by_role("cell", name=re.compile("Médiathèque numérique")).first.wait_for()
    await screenshot(page, "24-atlaas-search")

    await page.get_by_role("menuitem", name="Propositions (Atlaas)").click()
    await page.get_by_role("cell", name="Guichet numérique itinérant").click()
    await page.get_by_role("columnheader", name="Proposé", exact=True).wait_for()
    await page.get_by_role("cell", name="Titre", exact=True).wait_for()
    await screenshot(page, "25-atlaas-moderation")
    await page.get_by_role("button", name="Accepter et publier").click()
    await page.get_by_text("Proposition acceptée et publiée").wait_for()
    async with httpx.AsyncClient() as client:
        found = (await client.get(f"{server}/api/v1/atlaas/actions", params={"q": "guichet itinerant"})).json()
    assert [item["title"] for item in found["items"]] == ["Guichet numérique itinérant"]
    assert page.errors == []


async def test_staff_review_bounces_and_erase_a_person_from_their_page(
    server: str, browser: Any, demo: dict[str, StaffAccount], engine: AsyncEngine
) -> None:
    from crm.domain.outbox.suppression import suppression_hash

    async with engine.begin() as conn:
        delivery = (
            await conn.execute(
                text("SELECT id, campaign_id, person_id, email FROM delivery WHERE status = 'sent' LIMIT 1")
            )
        ).one()
        await conn.execute(
            text(
                "INSERT INTO bounce (id, delivery_id, campaign_id, person_id, email_hash, kind, status, action, "
                "diagnostic, received_at, suppressed, reviewed, created_at, updated_at) VALUES (gen_random_uuid(), "
                ":d, :c, :p, :h, 'hard', '5.1.1', 'failed', '550 5.1.1 user unknown', now(), true, false, now(), now())"
            ),
            {
                "d": delivery.id,
                "c": delivery.campaign_id,
                "p": delivery.person_id,
                "h": suppression_hash(delivery.email),
            },
        )
    page = await new_page(browser)
    await log_in(page, server, demo["admin"])
    await page.goto(f"{server}/admin/#/bounces")
    await page.get_by_text("Taux de retours par campagne").wait_for()
    await page.get_by_text("550 5.1.1 user unknown").wait_for()
    await screenshot(page, "26-bounce-review")
    await page.get_by_role("button", name="Marquer comme vu").click()
    await page.get_by_text("550 5.1.1 user unknown").wait_for(state="detached")  # off the list to review

    api = await api_client(server, demo["admin"])
    person = await api.post(
        "/people", json={"first_name": "Ondine", "last_name": "Effaçable", "email": "ondine@example.org"}
    )
    await api.aclose()
    await page.goto(f"{server}/admin/#/people/{person.json()['id']}/show")
    await page.get_by_role("link", name="Exporter ses données (JSON)").wait_for()
    await page.get_by_role("button", name="Effacer cette personne").click()
    await page.get_by_role("button", name="Confirmer").click()
    await page.get_by_text("Personne effacée").first.wait_for()
    await page.get_by_text("effacée", exact=True).wait_for()
    await screenshot(page, "27-person-erased")
    assert page.errors == []


async def test_an_admin_gives_the_demo_partner_a_new_key_shown_once(
    server: str, browser: Any, demo: dict[str, StaffAccount]
) -> None:
    page = await new_page(browser)
    await log_in(page, server, demo["admin"])
    await page.get_by_role("menuitem", name="Clients d'API").click()
    row = page.locator("table tbody tr", has_text="synchronisation")
    await row.wait_for()
    await row.get_by_role("button", name="Nouvelle clé").click()
    key = page.get_by_test_id("api-key")
    await key.wait_for()
    assert (await key.inner_text()).startswith("crmp_")
    await expect(page.get_by_role("button", name="Copier la clé")).to_be_visible()
    await expect(row.locator("td.column-last_used_at")).to_be_visible()
    await screenshot(page, "20-api-clients-new-key")
    assert page.errors == []
