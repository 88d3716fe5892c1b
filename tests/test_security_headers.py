"""Public pages (reached from e-mails, many with a token in their address) send a strict
Content-Security-Policy with no inline script it does not name by hash, refuse to be framed, are
never sniffed into another type, and send no Referer that would carry their token to a linked site.
Every other response refuses framing and sniffing too."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.config import Settings
from crm.db.models.lists import SubscriptionStatus
from crm.domain.events.links import rsvp_url
from crm.lib import links
from tests.events_helpers import invite, make_event
from tests.mailing_helpers import make_list, make_person, subscribe

INLINE = re.compile(r"<(script|style)\b([^>]*)>(.*?)</\1>", re.S | re.I)


def policy(response: Any) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in response.headers["content-security-policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def assert_protected(response: Any, *, token: bool) -> None:
    csp = policy(response)
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    scripts = csp.get("script-src", [])
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts
    assert not re.search(r"\son[a-z]+\s*=", response.text, re.I)  # no inline event handlers
    for tag, attributes, body in INLINE.findall(response.text):
        if tag.lower() == "script":
            assert "src=" not in attributes or not body.strip()
            assert sha256(body) in scripts, "an inline script the policy does not allow: the browser blocks it"
        else:
            assert sha256(body) in csp.get("style-src", []) or "'unsafe-inline'" in csp.get("style-src", [])
    if token:
        assert response.headers["referrer-policy"] == "no-referrer"


def path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def test_every_public_page_sends_the_security_headers(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Settings
) -> None:
    client = admin_client
    person = await make_person(engine, "elu@ville-ajaccio.fr")
    news = await make_list(engine, "lettre")
    sub = await subscribe(engine, person, news, SubscriptionStatus.PENDING)
    event = await make_event(client)
    await invite(engine, event["id"], [(person, "")])
    token_pages = [
        links.unsubscribe_url(settings, person, news, None),
        links.preferences_url(settings, person),
        links.confirm_url(settings, person, [sub]),
        rsvp_url(settings, event["id"], person, "yes"),
        "/staff/invitation?token=" + "x" * 30,
        "/u/forged.token",  # the error page of a bad link shows its token too
    ]
    for url in token_pages:
        response = await client.get(path(url))
        assert response.status_code in (200, 400), url
        assert_protected(response, token=True)
    for url in ("/subscribe", "/archive", f"/archive/campaigns/{uuid4()}"):
        assert_protected(await client.get(url), token=False)
    posted = await client.post(path(links.unsubscribe_url(settings, person, news, None)), data={})
    assert_protected(posted, token=True)


async def test_the_rsvp_page_still_counts_itself_as_opened(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Settings
) -> None:
    person = await make_person(engine, "elu@ville-bastia.fr")
    event = await make_event(admin_client)
    await invite(engine, event["id"], [(person, "")])
    page = await admin_client.get(path(rsvp_url(settings, event["id"], person)))
    assert_protected(page, token=True)
    assert "'self'" in policy(page).get("connect-src", [])
    beacon = re.search(r'data-opened-url="([^"]+)"', page.text)
    assert beacon is not None
    assert (await admin_client.post(beacon.group(1))).status_code == 204
    assert (await admin_client.get(f"/api/v1/events/{event['id']}")).json()["figures"]["opened"] == 1


async def test_other_responses_refuse_framing_and_sniffing(client: AsyncTestClient[Any]) -> None:
    for url in ("/api/v1/auth/me", "/health/live", "/schema", "/nowhere"):
        response = await client.get(url)
        assert response.headers["x-content-type-options"] == "nosniff", url
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], url


async def test_an_archived_campaign_can_run_no_script(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, run_worker: Any
) -> None:
    from tests.sending_helpers import make_audience
    from tests.test_campaigns import compose

    list_id = await make_list(engine, "lettre")
    await make_audience(engine, list_id, 1)
    campaign = await compose(admin_client, list_id, is_public=True, subject="Lettre publique")
    await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")
    await run_worker()
    view = await admin_client.get(f"/archive/campaigns/{campaign['id']}")
    assert view.status_code == 200
    assert_protected(view, token=False)
    assert "script-src" not in policy(view)  # default-src 'none' then forbids every script
