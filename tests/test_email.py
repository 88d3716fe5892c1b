from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from crm.config import OrganisationSettings
from crm.lib.mail import TEMPLATES_DIR, base_context, compile_mjml, load_template, message_templates
from tests.smtp import SmtpSink


async def test_test_email_goes_through_the_worker_to_smtp(
    admin_client: AsyncTestClient[Any], smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    response = await admin_client.post("/api/v1/system/test-email", json={"to": "Verif@Example.org"})
    assert response.status_code == 202
    assert response.json()["to"] == "verif@example.org"
    assert smtp.messages == []  # queued, not sent by the API process
    await run_worker()
    [received] = smtp.to("verif@example.org")
    msg = received.message
    org = settings.organisation
    assert msg["To"] == "verif@example.org"
    assert org.sender_email in msg["From"]
    assert msg["Subject"] == f"Message de test – {org.name}"
    assert re.fullmatch(r"<[^@>]+@[^>]+>", msg["Message-ID"])
    assert msg["Date"]
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    # The footer says who sends it and why, in both parts.
    for body in (received.text, received.html):
        assert org.name in body
        assert org.postal_address in body
        assert "Vous recevez ce message" in body
    assert "Admin Test" in received.text
    assert "<html" in received.html
    assert "{{" not in received.html
    assert "{{" not in received.text


async def test_an_address_with_accents_is_delivered_with_smtputf8(
    admin_client: AsyncTestClient[Any], smtp: SmtpSink, run_worker: Any
) -> None:
    response = await admin_client.post("/api/v1/system/test-email", json={"to": "chloé.martin@example.org"})
    assert response.status_code == 202
    await run_worker()
    [received] = smtp.to("chloé.martin@example.org")
    assert received.message["To"] == "chloé.martin@example.org"


async def test_test_email_is_admin_only(client: AsyncTestClient[Any], make_staff: Any) -> None:
    from crm.db.models.staff import StaffRole
    from tests.conftest import log_in

    editor = await make_staff(StaffRole.EDITOR)
    await log_in(client, editor.email)
    response = await client.post("/api/v1/system/test-email", json={"to": "x@example.org"})
    assert response.status_code == 403


async def test_a_refused_address_fails_the_job_without_retrying(
    admin_client: AsyncTestClient[Any], smtp: SmtpSink, run_worker: Any
) -> None:
    smtp.refuse_recipients["nobody@example.org"] = "550 5.1.1 No such user"
    await admin_client.post("/api/v1/system/test-email", json={"to": "nobody@example.org"})
    worker = await run_worker()
    assert worker.jobs_failed == 1
    assert worker.jobs_retried == 0
    assert smtp.messages == []


async def test_a_temporary_refusal_is_retried_then_delivered(
    admin_client: AsyncTestClient[Any], smtp: SmtpSink, run_worker: Any, settings: Any
) -> None:
    from jobs import system_mail

    smtp.refuse_all_with = "421 4.3.2 Try again later"
    await admin_client.post("/api/v1/system/test-email", json={"to": "patient@example.org"})
    original = system_mail.RETRY_DELAYS
    system_mail.RETRY_DELAYS = (0,)  # the retry is due at once; arq still runs it as a new try
    try:
        calls = 0

        # The server recovers after the first refusal.
        real_handle = smtp.handle_DATA

        async def recover_after_first(*args: Any) -> str:
            nonlocal calls
            calls += 1
            if calls > 1:
                smtp.refuse_all_with = None
            return await real_handle(*args)

        smtp.handle_DATA = recover_after_first  # type: ignore[method-assign]
        worker = await run_worker()
    finally:
        system_mail.RETRY_DELAYS = original
        del smtp.handle_DATA
    assert worker.jobs_retried == 1
    assert len(smtp.to("patient@example.org")) == 1


SENTINELS = {
    "name": "ZZNAMEZZ",
    "requested_by": "ZZBYZZ",
    "requested_at": "ZZATZZ",
    "reason": "ZZREASONZZ",
    "invited_by": "ZZINVITERZZ",
    "role": "ZZROLEZZ",
    "expires_at": "ZZEXPZZ",
    "accept_url": "https://example.org/ZZURLZZ?a=1&b=2",
    "unsubscribe_url": "https://example.org/ZZUNSUBZZ",
    "title": "ZZTITLEZZ",
    "intro": "ZZINTROZZ",
    "button": "ZZBUTTONZZ",
    "copy": "ZZCOPYZZ",
}


@pytest.mark.parametrize("name", message_templates())
def test_placeholders_survive_mjml_and_inlining(name: str) -> None:
    template = load_template(name)
    source = TEMPLATES_DIR / f"{name}.mjml"
    used = set(re.findall(r"{{\s*(\w+)", source.read_text())) - {"association", "preheader"}
    context = base_context(OrganisationSettings(name="ZZORGZZ", postal_address="ZZADDRZZ"))
    context |= {k: v for k, v in SENTINELS.items() if k in used | {"reason"}}
    html, text = template.render(context)  # StrictUndefined: a lost placeholder would raise here
    for key in used | {"reason"}:
        value = SENTINELS[key].split("?")[0]
        assert value in html, (name, key)
        assert value in text, (name, key)
    for body in (html, text):
        assert "ZZORGZZ" in body
        assert "ZZADDRZZ" in body
        assert "{{" not in body
        assert "{%" not in body
    assert "<style" in html or 'style="' in html
    assert 'style="' in html  # the mj-style inline rules were inlined
    assert "googleapis" not in html
    assert '<html lang="fr"' in html  # screen readers pronounce it in French


def test_a_broken_template_is_reported_with_its_name() -> None:
    from crm.lib.mail import TemplateError

    with pytest.raises(TemplateError, match="demo"):
        compile_mjml(
            "<mjml><mj-body><mj-section><mj-column><mj-text>{{ oops </mj-text>"
            "</mj-column></mj-section></mj-body></mjml>",
            name="demo",
        )
