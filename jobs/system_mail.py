"""The platform's own mail: the SMTP check e-mail (a plain job: staff wait for its answer, and a
second one is harmless), and the entry point of the system mail outbox (confirmations, staff
invitations: crm.domain.system.mail)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from arq import Retry

from crm.db.models.staff import Staff
from crm.domain.association.branding import job_settings
from crm.domain.system import mail as system_mail
from crm.lib import frenchdates
from crm.lib.mail import OutgoingMessage, SmtpError, base_context, load_template
from crm.lib.services import open_session
from jobs.context import WORKER_NAME, JobContext

log = structlog.get_logger("jobs.system_mail")
RETRY_DELAYS = (5, 30, 120, 600)


def _when(moment: datetime) -> str:
    return frenchdates.moment(moment)


async def _deliver(ctx: JobContext, message: OutgoingMessage) -> str:
    try:
        return await ctx["mailer"].send(message.build())
    except SmtpError as exc:
        if exc.permanent:
            raise
        # 4xx and connection faults: arq runs the job again later.
        delay = RETRY_DELAYS[min(ctx["job_try"] - 1, len(RETRY_DELAYS) - 1)]
        log.warning("smtp_temporary_failure", code=exc.code, retry_in=delay, job_id=ctx["job_id"])
        raise Retry(defer=delay) from exc


async def send_test_email(ctx: JobContext, to: str, requested_by_id: str) -> str:
    settings = await job_settings(ctx)
    async with open_session(ctx["db_config"]) as session:
        requester = await session.get(Staff, UUID(requested_by_id))
    template = load_template("test_email")
    context = base_context(settings.organisation) | {
        "requested_by": requester.name or requester.email if requester else "un membre de l'équipe",
        "requested_at": _when(datetime.now(UTC)),
        "reason": "Vous recevez ce message parce qu'un membre de l'équipe a vérifié les réglages d'envoi.",
    }
    html, text = template.render(context)
    org = settings.organisation
    answer = await _deliver(
        ctx,
        OutgoingMessage(
            to=to,
            subject=f"Message de test – {org.name}",
            html=html,
            text=text,
            sender=org.sender_email,
            sender_name=org.sender_name,
            reply_to=org.reply_to or None,
        ),
    )
    log.info("test_email_sent", job_id=ctx["job_id"], requested_by=requested_by_id)
    return answer


async def send_system_mail(ctx: dict[str, Any]) -> str:
    """Sends the confirmations and staff invitations that wait (crm.domain.system.mail)."""
    sent = await system_mail.deliver_due(
        await job_settings(ctx), ctx["db_config"], ctx["redis"], ctx["smtp_pool"], WORKER_NAME
    )
    return f"sent {sent}"
