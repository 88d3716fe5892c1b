"""The association's settings screen: admins change the name, address, sender, logo and colour, and
the next page and the next e-mail show them, in the API process and in the worker, without a restart."""

from __future__ import annotations

import base64
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm.db.models.audit import AuditEntry
from crm.db.models.staff import StaffRole
from crm.lib.redis import connect_redis
from tests.conftest import log_in
from tests.smtp import SmtpSink

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
SETTINGS = {
    "name": "Réseau des villes connectées",
    "postal_address": "2 rue de l’Hôtel de ville, 69001 Lyon",
    "website": "https://villes-connectees.example",
    "sender_name": "Villes connectées",
    "sender_email": "bonjour@villes-connectees.example",
    "reply_to": "equipe@villes-connectees.example",
    "brand_colour": "#7B2D26",
}


def data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


async def test_the_environment_stands_in_until_an_admin_saves(
    client: AsyncTestClient[Any], make_staff: Any, settings: Any
) -> None:
    viewer = await make_staff(StaffRole.VIEWER)
    await log_in(client, viewer.email)
    shown = (await client.get("/api/v1/settings")).json()
    assert shown["name"] == settings.organisation.name
    assert shown["version"] == 0
    assert shown["logo_url"] == ""
    refused = await client.put("/api/v1/settings", json=SETTINGS)
    assert refused.status_code == 403


async def test_a_save_is_audited_and_shown_on_the_next_public_page(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine
) -> None:
    before = await admin_client.get("/subscribe")
    assert "Réseau des villes connectées" not in before.text
    saved = await admin_client.put("/api/v1/settings", json=SETTINGS)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1
    assert saved.json()["brand_colour"] == "#7b2d26"
    page = await admin_client.get("/subscribe")
    assert "Réseau des villes connectées" in page.text
    assert "2 rue de l’Hôtel de ville, 69001 Lyon" in page.text
    # The colour's style is allowed by its hash, like the templates' own styles.
    assert "header, button { background: #7b2d26; }" in page.text
    assert page.headers["content-security-policy"].count("sha256-") >= 2
    async with AsyncSession(engine) as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "association_settings"))
    assert entry is not None
    assert entry.changes is not None
    assert entry.changes["name"] == "Réseau des villes connectées"


async def test_the_logo_is_served_and_shown(admin_client: AsyncTestClient[Any]) -> None:
    saved = await admin_client.put("/api/v1/settings", json=SETTINGS | {"logo": data_url("image/png", PNG)})
    assert saved.status_code == 200, saved.text
    url = saved.json()["logo_url"]
    assert url.endswith("/brand/logo/1")
    logo = await admin_client.get("/brand/logo/1")
    assert logo.status_code == 200
    assert logo.headers["content-type"] == "image/png"
    assert logo.content == PNG
    assert logo.headers["x-content-type-options"] == "nosniff"
    assert '<img src="/brand/logo/1"' in (await admin_client.get("/archive")).text
    removed = await admin_client.put("/api/v1/settings", json=SETTINGS | {"remove_logo": True})
    assert removed.json()["logo_url"] == ""
    assert (await admin_client.get("/brand/logo/2")).status_code == 404


async def test_bad_settings_are_refused_naming_the_field(admin_client: AsyncTestClient[Any]) -> None:
    cases = {
        "brand_colour": [{"brand_colour": "#ffff00"}, {"brand_colour": "red"}],
        "logo": [
            {"logo": data_url("image/svg+xml", b"<svg onload='alert(1)'/>")},
            {"logo": data_url("image/png", b"GIF89a not a png")},
            {"logo": data_url("image/png", PNG + b"\0" * 210_000)},
        ],
        "sender_email": [{"sender_email": "not an address"}],
        "name": [{"name": ""}, {"name": "two\nlines"}],
    }
    for field, bodies in cases.items():
        for body in bodies:
            response = await admin_client.put("/api/v1/settings", json=SETTINGS | body)
            assert response.status_code == 422, (field, response.text)
            assert field in [e["field"] for e in response.json()["errors"]], response.text
    assert (await admin_client.get("/api/v1/settings")).json()["version"] == 0


async def test_the_worker_sends_with_the_new_settings_without_a_restart(
    admin_client: AsyncTestClient[Any], smtp: SmtpSink, run_worker: Any, redis_url: str
) -> None:
    await admin_client.post("/api/v1/system/test-email", json={"to": "avant@example.org"})
    await run_worker()
    [before] = smtp.to("avant@example.org")
    assert "Villes connectées" not in before.message["From"]

    await admin_client.put("/api/v1/settings", json=SETTINGS | {"logo": data_url("image/png", PNG)})
    await admin_client.post("/api/v1/system/test-email", json={"to": "apres@example.org"})
    await run_worker()
    [after] = smtp.to("apres@example.org")
    assert after.message["From"] == "Villes connectées <bonjour@villes-connectees.example>"
    assert after.message["Reply-To"] == "equipe@villes-connectees.example"
    assert "Réseau des villes connectées" in after.message["Subject"]
    assert "#7b2d26" in after.html
    assert "/brand/logo/1" in after.html
    assert "<img" not in after.text  # the logo is for the HTML part only

    # Redis forgets the version (a flush): the next reader takes it from the database again.
    redis = connect_redis(redis_url)
    await redis.flushdb()
    await redis.aclose()
    page = await admin_client.get("/subscribe")
    assert "Réseau des villes connectées" in page.text


def test_campaign_templates_show_the_logo_and_colour_in_html_only() -> None:
    from crm.config import OrganisationSettings
    from crm.domain.association.branding import Branding
    from crm.domain.campaigns.content import compile_campaign
    from crm.lib.mail import base_context

    branding = Branding.model_construct(
        **OrganisationSettings().model_dump() | {"brand_colour": "#7b2d26"},
        logo_url="https://crm.example/brand/logo/3",
        version=3,
    )
    template = compile_campaign("newsletter", {"blocks": []}, subject="Lettre de mars")
    fields = dict.fromkeys(("preheader", "first_name", "last_name", "full_name", "organisation"), "")
    html, text = template.render(
        base_context(branding) | fields | {"reason": "r", "unsubscribe_url": "u", "preferences_url": "p"}
    )
    assert '<img src="https://crm.example/brand/logo/3"' in html
    assert "#7b2d26" in html
    assert "logo" not in text
