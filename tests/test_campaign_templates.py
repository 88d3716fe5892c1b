"""Staff-written templates are bounded: every field that reaches the template engine takes only
known {{ field }} placeholders; anything else is a 422 when the campaign is saved or previewed, and
a reason shown on the campaign when it is sent. The public archive is rendered once per campaign."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.lib.mail import TemplateError, from_sources
from tests.events_helpers import make_event
from tests.mailing_helpers import make_list
from tests.sending_helpers import campaign_row, delivery_counts, make_audience, received_per_address
from tests.smtp import SmtpSink

BOMB = "{{ 9**9**9 }}"
OVERFLOW = "{{ 10.0 ** 400 }}"
LOOP = "{% for i in range(99999) %}{{ i }}{% endfor %}"


def body(list_id: Any, **extra: Any) -> dict[str, Any]:
    return {"name": "Lettre", "subject": "La lettre", "list_id": str(list_id), **extra}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"subject": f"Bonjour {BOMB}"}, "subject"),
        ({"preheader": LOOP}, "preheader"),
        ({"content": {"blocks": [{"type": "heading", "text": OVERFLOW}]}}, "content.blocks[0].text"),
        ({"content": {"blocks": [{"type": "text", "text": f"Bonjour {OVERFLOW}"}]}}, "content.blocks[0].text"),
        (
            {"content": {"blocks": [{"type": "button", "label": "Lire", "url": "https://example.org/?q={{9**9**9}}"}]}},
            "content.blocks[0].url",
        ),
        (
            {"content": {"blocks": [{"type": "image", "url": "https://example.org/a.png#{{''*9}}", "alt": "x"}]}},
            "content.blocks[0].url",
        ),
        (
            {"content": {"blocks": [{"type": "image", "url": "https://example.org/a.png", "alt": "{{ 'a' * 99 }}"}]}},
            "content.blocks[0].alt",
        ),
        (
            {"content": {"blocks": [{"type": "button", "label": "{{ x }}", "url": "https://e.org"}]}},
            "content.blocks[0].label",
        ),
    ],
)
async def test_every_templated_field_takes_known_placeholders_only(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, extra: dict[str, Any], field: str
) -> None:
    list_id = await make_list(engine, "lettre")
    created = await admin_client.post("/api/v1/campaigns", json=body(list_id, **extra))
    assert created.status_code == 422, created.text
    assert field in [e["field"] for e in created.json()["errors"]]

    fine = await admin_client.post("/api/v1/campaigns", json=body(list_id))
    changed = await admin_client.patch(f"/api/v1/campaigns/{fine.json()['id']}", json=extra)
    assert changed.status_code == 422, changed.text
    assert field in [e["field"] for e in changed.json()["errors"]]


async def test_placeholders_in_a_subject_alt_or_link_are_filled(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine
) -> None:
    list_id = await make_list(engine, "lettre")
    [(person_id, _)] = await make_audience(engine, list_id, 1)
    blocks = [
        {"type": "image", "url": "https://example.org/a.png", "alt": "Pour {{ first_name }}"},
        {"type": "button", "label": "Voir", "url": "https://example.org/?qui={{first_name}}"},
    ]
    created = await admin_client.post(
        "/api/v1/campaigns",
        json=body(list_id, subject="Lettre pour {{ full_name }}", content={"blocks": blocks}),
    )
    assert created.status_code == 201, created.text
    preview = await admin_client.get(f"/api/v1/campaigns/{created.json()['id']}/preview")
    assert preview.status_code == 200
    assert "Lettre pour Prénom0 Lefèvre" in preview.text
    assert 'alt="Pour Prénom0"' in preview.text
    assert "https://example.org/?qui=Prénom0" in preview.text
    assert str(person_id) not in preview.text


@pytest.mark.parametrize("description", [OVERFLOW, LOOP, "Salle {{ lieu.nom }}"])
async def test_a_template_error_at_preview_or_send_is_a_422(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, description: str
) -> None:
    list_id = await make_list(engine, "lettre")
    await make_audience(engine, list_id, 1)
    event = await make_event(admin_client, description=description)
    created = await admin_client.post(
        "/api/v1/campaigns",
        json=body(list_id, kind="invitation", event_id=event["id"], content={"blocks": []}),
    )
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    preview = await admin_client.get(f"/api/v1/campaigns/{campaign_id}/preview")
    assert preview.status_code == 422, preview.text
    assert preview.json()["errors"]
    sent = await admin_client.post(f"/api/v1/campaigns/{campaign_id}/send")
    assert sent.status_code == 422, sent.text
    assert (await admin_client.get(f"/api/v1/campaigns/{campaign_id}")).json()["status"] == "draft"
    assert await delivery_counts(engine, campaign_id) == {}


async def test_a_scheduled_campaign_that_cannot_be_composed_says_why(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, settings: Any
) -> None:
    from crm.lib.redis import connect_redis
    from crm.lib.services import alchemy_config
    from jobs.sending import sweep

    list_id = await make_list(engine, "lettre")
    await make_audience(engine, list_id, 3)
    event = await make_event(admin_client, description="Salle {{ lieu.nom }}")
    created = await admin_client.post(
        "/api/v1/campaigns", json=body(list_id, kind="invitation", event_id=event["id"], content={"blocks": []})
    )
    campaign_id = created.json()["id"]
    scheduled = await admin_client.post(
        f"/api/v1/campaigns/{campaign_id}/schedule", json={"scheduled_at": "2099-01-01T09:00:00+01:00"}
    )
    assert scheduled.status_code == 200
    async with engine.begin() as conn:  # time passes
        await conn.execute(
            text("UPDATE campaign SET scheduled_at = now() - interval '1 second' WHERE id = :c"), {"c": campaign_id}
        )
    ctx = {"settings": settings, "redis": connect_redis(settings.redis_url), "db_config": alchemy_config(settings)}
    try:
        await sweep(ctx)
    finally:
        await ctx["redis"].aclose()
        await ctx["db_config"].get_engine().dispose()
    shown = (await admin_client.get(f"/api/v1/campaigns/{campaign_id}")).json()
    assert shown["status"] == "draft"  # not retried at every sweep: staff fix it and send again
    assert "lieu" in shown["paused_reason"]
    assert await delivery_counts(engine, campaign_id) == {}


@pytest.mark.parametrize(
    ("stored", "delivery_status"),
    [
        # A template stored by an older version: refused as a whole, nobody is served.
        ("{% for i in range(3) %}x{% endfor %}", None),
        # Fails for each recipient: the delivery fails with the reason and the campaign stops.
        ("{{ lieu.nom }}", "failed"),
    ],
)
async def test_a_template_error_while_sending_pauses_the_campaign_with_the_reason(
    admin_client: AsyncTestClient[Any],
    engine: AsyncEngine,
    smtp: SmtpSink,
    run_worker: Any,
    stored: str,
    delivery_status: str | None,
) -> None:
    from crm.db.models.campaign import CampaignStatus

    list_id = await make_list(engine, "lettre")
    await make_audience(engine, list_id, 5)
    created = await admin_client.post("/api/v1/campaigns", json=body(list_id))
    campaign_id = created.json()["id"]
    # Started, and before its job runs, its stored template altered as a campaign stored before the checks.
    assert (await admin_client.post(f"/api/v1/campaigns/{campaign_id}/send")).status_code == 202
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE campaign SET compiled_html = compiled_html || :t, compiled_text = :t WHERE id = :c"),
            {"t": stored, "c": campaign_id},
        )
    await run_worker()

    shown = (await admin_client.get(f"/api/v1/campaigns/{campaign_id}/progress")).json()
    assert shown["status"] == CampaignStatus.PAUSED
    assert shown["paused_reason"]
    assert shown["leased"] == 0  # nothing stays held by a worker
    assert received_per_address(smtp) == {}
    counts = await delivery_counts(engine, campaign_id)
    if delivery_status is None:
        assert counts == {"queued": 5}
    else:
        # Those already in hand when it first failed fail too (lanes work in parallel); none is held.
        assert counts["failed"] >= 1
        assert counts["failed"] + counts.get("queued", 0) == 5
        async with engine.connect() as conn:
            response = await conn.scalar(
                text("SELECT smtp_response FROM delivery WHERE campaign_id = :c AND status = 'failed'"),
                {"c": campaign_id},
            )
        assert "lieu" in response


def test_a_render_too_large_fails_cleanly() -> None:
    template = from_sources("t", "<p>{{ first_name }}</p>", "{{ first_name }}", sandboxed=True)
    assert template.render({"first_name": "Aïcha"}) == ("<p>Aïcha</p>", "Aïcha")
    with pytest.raises(TemplateError):
        template.render({"first_name": "x" * 30_000_000})


async def test_the_public_archive_is_rendered_once_and_served_from_that_copy(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    await make_audience(engine, list_id, 2)
    created = await admin_client.post(
        "/api/v1/campaigns", json=body(list_id, is_public=True, subject="Lettre publique")
    )
    campaign_id = created.json()["id"]
    await admin_client.post(f"/api/v1/campaigns/{campaign_id}/send")
    await run_worker()
    stored = (await campaign_row(engine, campaign_id)).archive_html
    assert stored
    assert "Lettre publique" in stored
    # What the template would give now no longer matters: the copy made once is what is served.
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE campaign SET compiled_html = 'autre chose', compiled_text = '' WHERE id = :c"),
            {"c": campaign_id},
        )
    first = await admin_client.get(f"/archive/campaigns/{campaign_id}")
    second = await admin_client.get(f"/archive/campaigns/{campaign_id}")
    assert first.status_code == second.status_code == 200
    assert first.text == second.text == stored


async def test_a_subject_placeholder_is_filled_per_recipient_on_one_line(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    people = await make_audience(engine, list_id, 2)
    async with engine.begin() as conn:  # a name typed with a line break must not open a new header
        await conn.execute(
            text("UPDATE person SET first_name = E'Zoé\\r\\nBcc: x@evil.example' WHERE id = :p"), {"p": people[1][0]}
        )
    created = await admin_client.post(
        "/api/v1/campaigns",
        json=body(
            list_id, subject="Lettre pour {{ first_name }}", preheader="Bonjour {{ first_name }}", is_public=True
        ),
    )
    campaign_id = created.json()["id"]
    await admin_client.post(f"/api/v1/campaigns/{campaign_id}/test", json={"person_id": str(people[0][0])})
    await admin_client.post(f"/api/v1/campaigns/{campaign_id}/send")
    await run_worker()
    [test] = smtp.to("admin@example.org")
    assert test.message["Subject"] == "[TEST] Lettre pour Prénom0"
    [first] = smtp.to(people[0][1])
    assert first.message["Subject"] == "Lettre pour Prénom0"
    assert "Bonjour Prénom0" in first.html
    [second] = smtp.to(people[1][1])
    assert second.message["Subject"] == "Lettre pour Zoé Bcc: x@evil.example"
    assert second.message["Bcc"] is None
    assert set(received_per_address(smtp)) == {"admin@example.org", people[0][1], people[1][1]}
    archive = await admin_client.get("/archive")
    assert "{{" not in archive.text
    assert "Lettre pour" in archive.text


async def test_a_campaign_sent_before_archive_copies_gets_one_on_its_first_visit(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine, smtp: SmtpSink, run_worker: Any
) -> None:
    list_id = await make_list(engine, "lettre")
    await make_audience(engine, list_id, 1)
    created = await admin_client.post("/api/v1/campaigns", json=body(list_id, is_public=True, subject="Ancienne"))
    campaign_id = created.json()["id"]
    await admin_client.post(f"/api/v1/campaigns/{campaign_id}/send")
    await run_worker()
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE campaign SET archive_html = NULL WHERE id = :c"), {"c": campaign_id})
    first = await admin_client.get(f"/archive/campaigns/{campaign_id}")
    assert first.status_code == 200
    assert "Ancienne" in first.text
    assert (await campaign_row(engine, campaign_id)).archive_html == first.text


async def test_the_blocks_of_a_message_are_bounded_in_total(
    admin_client: AsyncTestClient[Any], engine: AsyncEngine
) -> None:
    list_id = await make_list(engine, "lettre")
    block = {"type": "text", "text": "Une très longue lettre. " * 400}  # 9,600 characters
    fits = await admin_client.post("/api/v1/campaigns", json=body(list_id, content={"blocks": [block] * 20}))
    assert fits.status_code == 201, fits.text
    too_long = await admin_client.post("/api/v1/campaigns", json=body(list_id, content={"blocks": [block] * 25}))
    assert too_long.status_code == 422
    assert any(e["field"].startswith("content") for e in too_long.json()["errors"])


def test_a_message_filled_from_the_campaign_rendered_once_is_what_jinja_renders_for_that_person(
    settings: Any,
) -> None:
    """The worker renders a campaign once and fills each recipient's fields in; what it sends must
    be, byte for byte, what the template renders for that person, whatever their names hold."""
    from datetime import UTC, datetime
    from types import SimpleNamespace
    from uuid import uuid4

    from crm.db.models.campaign import Campaign
    from crm.domain.campaigns.rendering import CampaignRenderer, fill_line, recipient_context

    html = (
        '<p title="{{ full_name }}">Bonjour {{ first_name }} {{ last_name|default("ami") }}, de {{ organisation }}'
        ' ({{ association.name }})</p>{{ preheader }}<a href="{{ unsubscribe_url }}">x</a>'
        '<a href="{{ rsvp_yes_url }}">oui</a>{{ reason }}{{ first_name }}\n'
    )
    plain = "Bonjour {{ first_name }} {{ last_name }} {{ organisation }}\n{{ unsubscribe_url }}\n{{ reason }}\n"
    template = from_sources("campaign", html, plain, sandboxed=True)
    campaign = Campaign(
        id=uuid4(), list_id=uuid4(), event_id=uuid4(), subject="Pour {{ first_name }}", preheader="{{ full_name }} !"
    )
    people = [
        SimpleNamespace(
            id=uuid4(),
            first_name=first,
            last_name=last,
            organisation=org,
            legal_basis=basis,
            subscribed_at=datetime(2026, 3, 1, tzinfo=UTC),
        )
        for first, last, org, basis in [
            ("Zoé", "Lefèvre", "Ville d'Ajaccio", "consent"),
            ('<b>"A&B"</b>', None, None, "legitimate_interest"),
            ("", "", "", "consent"),
        ]
    ]
    for preview in (False, True):
        renderer = CampaignRenderer(settings, campaign, template, "La lettre", preview=preview)
        for person in people:
            rendered = renderer.render(person)
            context = recipient_context(settings, campaign, "La lettre", person, preview=preview)
            assert (rendered.html, rendered.text) == template.render(context)
            assert rendered.subject == fill_line(campaign.subject, context)
    assert (
        "&lt;b&gt;&#34;A&amp;B&#34;&lt;/b&gt;"
        in CampaignRenderer(settings, campaign, template, "l").render(people[1]).html
    )
