"""What comes back after sending, through `crm inbound` over real SMTP: bounces find their
delivery by the signed return path (VERP) and suppress or count, complaints take the person off
every list, mailto requests unsubscribe; forged tags do nothing. The report shapes are in
tests/report_samples.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any
from urllib.parse import unquote

import aiosmtplib
import dkim
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.domain.deliverability.inbound import start_inbound
from crm.domain.deliverability.reports import ReportKind, read_report
from crm.domain.outbox.suppression import suppression_hash
from crm.embedded import free_port
from crm.lib.services import alchemy_config
from crm.lib.verp import BOUNCE_PREFIX, make_tag, return_path, tag_of
from tests import report_samples as samples
from tests.mailing_helpers import make_list
from tests.sending_helpers import make_audience
from tests.smtp import SmtpSink
from tests.test_campaigns import compose

SECRET = "test-secret-key-" + "x" * 32
UNSUBSCRIBE_MAILBOX = "desinscription@example.org"


def test_report_shapes_of_the_major_providers() -> None:
    delivery = uuid.uuid4()
    bounce_to = return_path(SECRET, "example.org", delivery)
    unsubscribe_tag = make_tag(SECRET, "unsubscribe", delivery)
    mailto = f"<mailto:desinscription+{unsubscribe_tag}@example.org?subject=unsubscribe%20{unsubscribe_tag}>"

    def read(raw: bytes, *recipients: str) -> Any:
        return read_report(raw, list(recipients), SECRET, UNSUBSCRIBE_MAILBOX)

    hard = read(samples.gmail_like_hard(bounce_to, "jeanne@ville-exemple.fr"), bounce_to)
    assert (hard.kind, hard.delivery_id, hard.status, hard.action, hard.hard) == (
        ReportKind.BOUNCE,
        delivery,
        "5.1.1",
        "failed",
        True,
    )
    assert hard.diagnostic.startswith("550-5.1.1 The email account")
    assert hard.reporter == "googlemail.com"
    # Read from a mailbox (IMAP): no envelope, the To header names the return path.
    assert read(samples.gmail_like_hard(bounce_to, "jeanne@ville-exemple.fr")).delivery_id == delivery

    full = read(samples.outlook_like_full(bounce_to, "paul@ville-exemple.fr"), bounce_to)
    assert (full.status, full.hard, full.counts) == ("5.2.2", False, True)
    delayed = read(samples.yahoo_like_delayed(bounce_to, "paul@ville-exemple.fr"), bounce_to)
    assert (delayed.status, delayed.action, delayed.hard, delayed.counts) == ("4.2.2", "delayed", False, True)
    prose = read(samples.prose_bounce(bounce_to, "paul@mairie-exemple.fr"), bounce_to)
    assert (prose.kind, prose.delivery_id, prose.status, prose.hard) == (ReportKind.BOUNCE, delivery, "5.1.1", True)

    yahoo = read(samples.yahoo_like_complaint("fbl@example.org", bounce_to, "x@yahoo.com", mailto), "fbl@example.org")
    assert (yahoo.kind, yahoo.delivery_id, yahoo.feedback_type) == (ReportKind.COMPLAINT, delivery, "abuse")
    outlook = read(samples.outlook_like_complaint("fbl@example.org", "x@hotmail.com", mailto), "fbl@example.org")
    assert (outlook.kind, outlook.delivery_id) == (ReportKind.COMPLAINT, delivery)

    # A tag signed with another key, or for the other purpose, names nothing.
    forged = return_path("another-key", "example.org", delivery)
    assert read(samples.gmail_like_hard(forged, "jeanne@ville-exemple.fr"), forged).delivery_id is None
    wrong_purpose = f"bounce+{unsubscribe_tag}@example.org"
    assert read(samples.prose_bounce(wrong_purpose, "p@x.fr"), wrong_purpose).delivery_id is None


@pytest.fixture
async def inbound(settings: Any) -> AsyncIterator[int]:
    config = alchemy_config(settings)
    port = free_port()
    controller = start_inbound(settings, config, "127.0.0.1", port)
    yield port
    controller.stop()
    await config.get_engine().dispose()


async def deliver(port: int, raw: bytes, recipient: str, sender: str = "") -> None:
    """One message to `crm inbound` over SMTP (a bounce comes from the null sender)."""
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as client:
        await client.sendmail(sender, [recipient], raw)


async def sent_campaign(admin_client: Any, engine: AsyncEngine, run_worker: Any, count: int) -> tuple[Any, list[Any]]:
    list_id = await make_list(engine, "lettre", "La lettre des villes")
    people = await make_audience(engine, list_id, count)
    campaign = await compose(admin_client, list_id)
    assert (await admin_client.post(f"/api/v1/campaigns/{campaign['id']}/send")).status_code == 202
    await run_worker()
    return campaign, people


async def subscription_states(engine: AsyncEngine, person_id: Any) -> list[tuple[str, str | None]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT status::text, unsubscribe_reason FROM subscription WHERE person_id = :p"), {"p": person_id}
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def suppression_reason(engine: AsyncEngine, email: str) -> str | None:
    async with engine.connect() as conn:
        return await conn.scalar(
            text("SELECT reason::text FROM suppression WHERE email_hash = :h"), {"h": suppression_hash(email)}
        )


async def test_bounces_complaints_and_mailto_requests_through_crm_inbound(
    admin_client: Any, engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, inbound: int
) -> None:
    campaign, people = await sent_campaign(admin_client, engine, run_worker, 5)
    messages = {email: smtp.to(email)[0] for _, email in people}
    (hard_id, hard_email), (spam_id, spam_email), (left_id, left_email), (subj_id, subj_email) = people[:4]

    # A Gmail-like hard bounce to the message's own return path: suppressed at once.
    bounce_to = messages[hard_email].envelope_from
    await deliver(inbound, samples.gmail_like_hard(bounce_to, hard_email), bounce_to)
    assert await suppression_reason(engine, hard_email) == "hard_bounce"
    deliveries = (await admin_client.get("/api/v1/deliveries", params={"person_id": str(hard_id)})).json()["items"]
    assert deliveries[0]["status"] == "bounced"
    [bounce] = (await admin_client.get("/api/v1/bounces", params={"delivery_id": deliveries[0]["id"]})).json()["items"]
    assert (bounce["kind"], bounce["status"], bounce["suppressed"], bounce["reviewed"]) == (
        "hard",
        "5.1.1",
        True,
        False,
    )

    # A forged return path (someone else's delivery id, a made-up MAC) is accepted and ignored.
    forged = f"bounce+{tag_of(bounce_to).split('-')[0]}-aaaaaaaaaaaaa@example.org"  # type: ignore[union-attr]
    await deliver(inbound, samples.gmail_like_hard(forged, spam_email), forged)
    assert await suppression_reason(engine, spam_email) is None
    # Mail for anyone else is refused during the conversation.
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await deliver(inbound, b"Subject: hi\r\n\r\nhi\r\n", "someone@elsewhere.example")

    # A Yahoo-like complaint: off every list, the reason recorded, the address suppressed.
    list_unsubscribe = messages[spam_email].message["List-Unsubscribe"]
    complaint = samples.yahoo_like_complaint(
        "fbl@example.org", messages[spam_email].envelope_from, spam_email, list_unsubscribe
    )
    await deliver(inbound, complaint, "fbl@example.org", sender="feedback@arf.mail.yahoo.com")
    [(status, reason)] = await subscription_states(engine, spam_id)
    assert status == "unsubscribed"
    assert reason.startswith("complaint (abuse report")
    assert await suppression_reason(engine, spam_email) == "complaint"

    # The mailto of List-Unsubscribe, as a mail client sends it: to the tagged address...
    mailto = messages[left_email].message["List-Unsubscribe"].split("<mailto:")[1].rstrip(">")
    address, _, query = mailto.partition("?")
    request = f"From: {left_email}\r\nTo: {address}\r\nSubject: {unquote(query.split('=', 1)[1])}\r\n\r\n\r\n"
    await deliver(inbound, request.encode(), address, sender=left_email)
    assert await subscription_states(engine, left_id) == [
        ("unsubscribed", f"mailto request (campaign {campaign['id']})")
    ]
    # ... or to the plain mailbox with the tag only in the subject (a server that drops +tags).
    subject = unquote(messages[subj_email].message["List-Unsubscribe"].split("subject=")[1].rstrip(">"))
    request = f"From: {subj_email}\r\nTo: {UNSUBSCRIBE_MAILBOX}\r\nSubject: {subject}\r\n\r\n\r\n"
    await deliver(inbound, request.encode(), UNSUBSCRIBE_MAILBOX, sender=subj_email)
    assert (await subscription_states(engine, subj_id))[0][0] == "unsubscribed"
    # Unsubscribing is not suppressing: the person may still be invited to an event.
    assert await suppression_reason(engine, left_email) is None

    rates = (await admin_client.get("/api/v1/bounces/rates")).json()["items"]
    assert rates == [
        {
            "campaign_id": campaign["id"],
            "campaign_name": campaign["name"],
            "started_at": rates[0]["started_at"],
            "sent": 5,
            "hard_bounces": 1,
            "soft_bounces": 0,
            "complaints": 1,
            "hard_bounce_rate": 0.2,
            "soft_bounce_rate": 0.0,
            "complaint_rate": 0.2,
        }
    ]
    reviewed = await admin_client.patch(f"/api/v1/bounces/{bounce['id']}", json={"reviewed": True})
    assert reviewed.json()["reviewed"] is True
    to_review = (await admin_client.get("/api/v1/bounces", params={"reviewed": "false"})).json()["items"]
    assert [b["kind"] for b in to_review] == ["complaint"]


async def test_three_soft_bounces_on_different_days_within_30_days_suppress(
    admin_client: Any, engine: AsyncEngine, smtp: SmtpSink, run_worker: Any, inbound: int, settings: Any
) -> None:
    # With DKIM on and a key made by staff, the campaign goes out signed with it.
    key = await admin_client.post("/api/v1/dkim-keys", json={"selector": "crm2026"})
    assert key.status_code == 201, key.text
    assert key.json()["dns_name"] == "crm2026._domainkey.example.org"
    settings.deliverability.dkim_enabled = True
    _, people = await sent_campaign(admin_client, engine, run_worker, 1)
    [(person_id, email)] = people
    received = smtp.to(email)[0]
    assert dkim.verify(received.raw, dnsfunc=lambda name, timeout=5: key.json()["dns_txt"].encode())
    bounce_to = received.envelope_from

    async def earlier_soft_bounce(days_ago: int) -> None:
        # What an earlier campaign's bounce left behind (the same address, another day).
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO bounce (id, person_id, email_hash, kind, status, received_at, suppressed, reviewed, "
                    "created_at, updated_at) VALUES (:id, :p, :h, 'soft', '5.2.2', :at, false, false, now(), now())"
                ),
                {
                    "id": uuid.uuid4(),
                    "p": person_id,
                    "h": suppression_hash(email),
                    "at": datetime.now(UTC) - timedelta(days=days_ago),
                },
            )

    await earlier_soft_bounce(45)  # too old to count
    await earlier_soft_bounce(1)
    await deliver(inbound, samples.outlook_like_full(bounce_to, email), bounce_to)
    await deliver(inbound, samples.yahoo_like_delayed(bounce_to, email), bounce_to)  # the same day again
    assert await suppression_reason(engine, email) is None  # two days within 30

    await earlier_soft_bounce(10)
    await deliver(inbound, samples.outlook_like_full(bounce_to, email), bounce_to)
    assert await suppression_reason(engine, email) == "hard_bounce"  # the third day
    kinds = (await admin_client.get("/api/v1/bounces", params={"sort": "received_at"})).json()["items"]
    assert [(b["kind"], b["suppressed"]) for b in kinds][-1] == ("soft", True)
    assert parseaddr(bounce_to)[1].startswith(BOUNCE_PREFIX + "+")
