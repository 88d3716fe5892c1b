"""Single messages of the platform: the SMTP check e-mail and staff invitations.

Both are safe to run twice: a second test e-mail is harmless, and an invitation already sent
is not sent again."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import structlog
from arq import Retry

from crm.db.models.staff import Staff, StaffInvitation
from crm.domain.association.branding import job_settings
from crm.domain.staff.services import invitation_token
from crm.lib import frenchdates
from crm.lib.actor import Actor, acting_as
from crm.lib.mail import OutgoingMessage, SmtpError, base_context, load_template
from crm.lib.services import open_session
from jobs.context import JobContext

log = structlog.get_logger("jobs.system_mail")
RETRY_DELAYS = (5, 30, 120, 600)
# The role as the invited person reads it, in French.
ROLE_LABELS = {"admin": "administrateur·rice", "editor": "éditeur·rice", "viewer": "lecture seule"}


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


async def send_staff_invitation(ctx: JobContext, invitation_id: str) -> str:
    settings = await job_settings(ctx)
    with acting_as(Actor(kind="system")):
        async with open_session(ctx["db_config"]) as session:
            invitation = await session.get(StaffInvitation, UUID(invitation_id), with_for_update=True)
            if invitation is None or invitation.sent_at or invitation.used_at:
                return "nothing to send"
            if invitation.expires_at < datetime.now(UTC):
                return "expired"
            staff = await session.get(Staff, invitation.staff_id)
            inviter = await session.get(Staff, invitation.invited_by_id) if invitation.invited_by_id else None
            assert staff is not None
            token = invitation_token(settings.security.secret_key.get_secret_value(), invitation.id)
            template = load_template("staff_invitation")
            html, text = template.render(
                base_context(settings.organisation)
                | {
                    "name": staff.name or staff.email,
                    "invited_by": (inviter.name or inviter.email) if inviter else settings.organisation.name,
                    "role": ROLE_LABELS[staff.role.value],
                    "expires_at": _when(invitation.expires_at),
                    "accept_url": f"{settings.public_url}/staff/invitation?token={token}",
                    "reason": "Vous recevez ce message parce qu'un administrateur vous a invité·e.",
                }
            )
            org = settings.organisation
            answer = await _deliver(
                ctx,
                OutgoingMessage(
                    to=staff.email,
                    subject=f"Invitation à l'espace d'administration – {org.name}",
                    html=html,
                    text=text,
                    sender=org.sender_email,
                    sender_name=org.sender_name,
                    reply_to=org.reply_to or None,
                ),
            )
            invitation.sent_at = datetime.now(UTC)
    log.info("staff_invitation_sent", invitation_id=invitation_id)
    return answer
