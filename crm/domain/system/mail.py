"""The platform's own mail as a consumer of the outbox engine: subscription confirmations (double
opt-in) and staff invitations. Each is a `system_message` row written in the transaction of the
change that calls for it (`queue_*`), then the worker is woken (`wake`); the sweep sends what a
lost job left behind. The message is rendered when its turn comes, from what is stored then: a
subscription confirmed meanwhile is not named, a used or expired invitation is not sent.

The SMTP check e-mail stays a plain job (jobs/system_mail.py): staff wait for its answer, and it
carries the address typed."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import structlog
from advanced_alchemy.config import SQLAlchemyAsyncConfig
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from crm.config import Settings
from crm.db.models.lists import MailingList, Subscription, SubscriptionStatus
from crm.db.models.person import Person
from crm.db.models.questionnaire import AnsweredBy, Questionnaire, QuestionnaireRecipient, QuestionnaireStatus
from crm.db.models.staff import Staff, StaffInvitation
from crm.db.models.system import SystemMessage, SystemMessageKind
from crm.domain.outbox.engine import Answer, run_in_order
from crm.domain.outbox.queries import OutboxTable
from crm.domain.outbox.suppression import suppress_unknown_mailbox
from crm.lib import frenchdates
from crm.lib.links import CONFIRM_MAX_AGE, confirm_url, invitation_token, jury_url, questionnaire_url
from crm.lib.mail import OutgoingMessage, SmtpError, SmtpPool, base_context, load_template
from crm.lib.services import open_session

log = structlog.get_logger("crm.system.mail")
JOB = "send_system_mail"
BATCH = 20
# The role as the invited person reads it, in French.
QUESTIONNAIRE_KINDS = frozenset(
    {
        SystemMessageKind.QUESTIONNAIRE_INVITATION,
        SystemMessageKind.QUESTIONNAIRE_REMINDER,
        SystemMessageKind.QUESTIONNAIRE_RECEIPT,
        SystemMessageKind.LABEL_RESULT,
        SystemMessageKind.JURY_INVITATION,
    }
)
ROLE_LABELS = {"admin": "administrateur·rice", "editor": "éditeur·rice", "viewer": "lecture seule"}

SYSTEM_MESSAGES = OutboxTable(
    name="system_message",
    status_type="system_message_status",
    columns=("t.kind", "t.subject_id", "t.payload"),
    # The address now: the person's, or the invited staff member's.
    address="CASE WHEN t.kind = 'subscription_confirmation' "
    "THEN (SELECT p.email FROM person p WHERE p.id = t.subject_id) "
    "WHEN t.kind = 'staff_invitation' "
    "THEN (SELECT s.email FROM staff_invitation i JOIN staff s ON s.id = i.staff_id WHERE i.id = t.subject_id) "
    # Questionnaire mail names the person written to (or an outside juror's address) in its payload.
    "ELSE COALESCE((SELECT p.email FROM person p WHERE p.id = (t.payload->>'person_id')::uuid), "
    "t.payload->>'email') END",
)


async def queue_confirmations(session: AsyncSession, subscription_ids: Sequence[UUID]) -> int:
    """One confirmation per person for these pending subscriptions, in the caller's transaction."""
    if not subscription_ids:
        return 0
    rows = await session.execute(
        select(Subscription.id, Subscription.person_id).where(Subscription.id.in_(list(subscription_ids)))
    )
    by_person: dict[UUID, list[str]] = defaultdict(list)
    for subscription_id, person_id in rows:
        by_person[person_id].append(str(subscription_id))
    now = datetime.now(UTC)
    for person_id, ids in by_person.items():
        session.add(
            SystemMessage(
                kind=SystemMessageKind.SUBSCRIPTION_CONFIRMATION,
                subject_id=person_id,
                payload={"subscriptions": ids},
                next_attempt_at=now,
            )
        )
    await session.flush()
    return len(by_person)


async def queue_staff_invitation(session: AsyncSession, invitation_id: UUID) -> None:
    session.add(
        SystemMessage(
            kind=SystemMessageKind.STAFF_INVITATION, subject_id=invitation_id, next_attempt_at=datetime.now(UTC)
        )
    )
    await session.flush()


async def wake(redis: Any) -> None:
    """Starts a job that sends what waits (after the caller's commit). A lost job is no loss: the
    sweep starts another while rows wait."""
    await redis.enqueue_job(JOB, _job_id=f"{JOB}:{uuid.uuid4().hex}")


def _when(moment: datetime) -> str:
    return frenchdates.moment(moment)


class SystemMail:
    """The adapter of system mail (one lane: a handful of messages)."""

    table = SYSTEM_MESSAGES
    unwanted = Answer("skipped", "not sent: the address is suppressed")

    def __init__(self, settings: Settings, db_config: SQLAlchemyAsyncConfig, pool: SmtpPool) -> None:
        self.settings = settings
        self.db_config = db_config
        self.pool = pool

    def wanted_params(self) -> dict[str, Any]:
        return {}

    async def prepare(self, conn: AsyncConnection, rows: Sequence[Any]) -> None:
        """Nothing: each message reads what it names when its turn comes."""

    async def compose(self, conn: AsyncConnection, row: Any) -> tuple[EmailMessage, UUID | None] | Answer:
        async with open_session(self.db_config) as session:
            if row.kind == SystemMessageKind.STAFF_INVITATION:
                return await self.invitation(session, row.subject_id)
            if row.kind in QUESTIONNAIRE_KINDS:
                return await self.questionnaire_mail(session, row.kind, row.subject_id, row.payload)
            return await self.confirmation(session, row.subject_id, [UUID(i) for i in row.payload["subscriptions"]])

    def _message(self, to: str, subject: str, template: str, context: dict[str, Any]) -> EmailMessage:
        org = self.settings.organisation
        html, text = load_template(template).render(base_context(org) | context)
        return OutgoingMessage(
            to=to,
            subject=subject,
            html=html,
            text=text,
            sender=org.sender_email,
            sender_name=org.sender_name,
            reply_to=org.reply_to or None,
        ).build()

    async def invitation(self, session: AsyncSession, invitation_id: UUID) -> tuple[EmailMessage, UUID] | Answer:
        invitation = await session.get(StaffInvitation, invitation_id)
        if invitation is None or invitation.used_at:
            return Answer("skipped", "not sent: the invitation is gone or used")
        if invitation.expires_at < datetime.now(UTC):
            return Answer("skipped", "not sent: the invitation has expired")
        staff = await session.get(Staff, invitation.staff_id)
        if staff is None:
            return Answer("skipped", "not sent: no such staff member")
        inviter = await session.get(Staff, invitation.invited_by_id) if invitation.invited_by_id else None
        settings = self.settings
        token = invitation_token(settings.security.secret_key.get_secret_value(), invitation.id)
        message = self._message(
            staff.email,
            f"Invitation à l'espace d'administration – {settings.organisation.name}",
            "staff_invitation",
            {
                "name": staff.name or staff.email,
                "invited_by": (inviter.name or inviter.email) if inviter else settings.organisation.name,
                "role": ROLE_LABELS[staff.role.value],
                "expires_at": _when(invitation.expires_at),
                "accept_url": f"{settings.public_url}/staff/invitation?token={token}",
                "reason": "Vous recevez ce message parce qu'un administrateur vous a invité·e.",
            },
        )
        return message, invitation.id

    async def questionnaire_mail(
        self, session: AsyncSession, kind: SystemMessageKind, subject_id: UUID, payload: dict[str, Any]
    ) -> tuple[EmailMessage, None] | Answer:
        """Invitations and reminders to answer (rendered now: a reminder to someone who has answered
        meanwhile is not sent), the copy of a submitted answer, a label result, a juror's link."""
        settings = self.settings
        person = await session.get(Person, UUID(payload["person_id"])) if payload.get("person_id") else None
        if person is not None and not person.email:
            return Answer("skipped", "not sent: no address")
        name = " ".join(filter(None, [person.first_name, person.last_name])) if person else payload.get("name", "")
        to = person.email if person else payload.get("email")
        if not to:
            return Answer("skipped", "not sent: no address")
        context: dict[str, Any] = {"name": name, "accept_url": "", "button": "", "copy": ""}
        if kind in (SystemMessageKind.QUESTIONNAIRE_INVITATION, SystemMessageKind.QUESTIONNAIRE_REMINDER):
            recipient = await session.get(QuestionnaireRecipient, subject_id)
            questionnaire = await session.get(Questionnaire, recipient.questionnaire_id) if recipient else None
            if recipient is None or questionnaire is None or person is None:
                return Answer("skipped", "not sent: the questionnaire or the person is gone")
            if questionnaire.status != QuestionnaireStatus.OPEN:
                return Answer("skipped", "not sent: the questionnaire is not open")
            if kind == SystemMessageKind.QUESTIONNAIRE_REMINDER and recipient.answered_on is not None:
                return Answer("skipped", "not sent: answered meanwhile")
            deadline = (
                f" Vous pouvez répondre jusqu'au {_when(questionnaire.closes_at)}." if questionnaire.closes_at else ""
            )
            who = (
                "Une seule réponse est attendue par collectivité : vos collègues qui ont reçu ce message "
                "complètent la même réponse que vous."
                if questionnaire.answered_by == AnsweredBy.ORGANISATION
                else ""
            )
            reminded = (
                "Petit rappel : nous n'avons pas encore reçu votre réponse. " if kind.endswith("reminder") else ""
            )
            context |= {
                "title": questionnaire.title,
                "intro": f"{reminded}{settings.organisation.name} vous invite à répondre au questionnaire "
                f"« {questionnaire.title} ».{deadline} Vos réponses sont enregistrées au fur et à mesure : "
                f"vous pouvez vous interrompre et revenir par le même lien. {who}",
                "accept_url": questionnaire_url(settings, questionnaire.id, person.id, recipient.organisation_id),
                "button": "Répondre au questionnaire",
                "reason": "Vous recevez ce message en tant que contact de notre réseau.",
            }
            subject = ("Rappel : " if reminded else "") + questionnaire.title
        elif kind == SystemMessageKind.QUESTIONNAIRE_RECEIPT:
            copy = "\n\n".join(f"{question}\n→ {answer or '(sans réponse)'}" for question, answer in payload["answers"])
            context |= {
                "title": f"Votre réponse : {payload['title']}",
                "intro": "Merci : votre réponse est bien enregistrée. En voici la copie.",
                "copy": copy,
                "reason": "Vous recevez ce message parce que vous avez envoyé cette réponse.",
            }
            subject = f"Votre réponse est enregistrée – {payload['title']}"
        elif kind == SystemMessageKind.LABEL_RESULT:
            context |= {
                "title": payload["title"],
                "intro": payload["text"],
                "reason": "Vous recevez ce message parce que votre collectivité a candidaté au label.",
            }
            subject = payload["title"]
        else:  # a juror's link
            context |= {
                "title": payload["title"],
                "intro": "Vous faites partie du jury. Ce lien personnel ouvre les candidatures qui vous sont "
                "confiées, pour les noter sur les critères de l'année et les commenter.",
                "accept_url": jury_url(settings, subject_id),
                "button": "Ouvrir mes candidatures",
                "reason": "Vous recevez ce message parce que vous êtes membre du jury.",
            }
            subject = payload["title"]
        return self._message(to, subject, "questionnaire", context), None

    async def confirmation(
        self, session: AsyncSession, person_id: UUID, subscription_ids: list[UUID]
    ) -> tuple[EmailMessage, None] | Answer:
        """Names only the subscriptions still pending."""
        rows = (
            await session.execute(
                select(Subscription.id, MailingList.name, Subscription.source)
                .join(MailingList, MailingList.id == Subscription.list_id)
                .where(
                    Subscription.id.in_(subscription_ids),
                    Subscription.person_id == person_id,
                    Subscription.status == SubscriptionStatus.PENDING,
                )
                .order_by(MailingList.name)
            )
        ).all()
        person = await session.get(Person, person_id)
        if not rows or person is None or not person.email:
            return Answer("skipped", "not sent: nothing left to confirm")
        names = ", ".join(name for _, name, _ in rows)
        # Staff may record a consent given elsewhere (a paper form, an event): say where it came from.
        origin = (
            "votre adresse a été saisie sur notre formulaire d'inscription"
            if any(source == "public form" for _, _, source in rows)
            else "votre inscription nous a été transmise"
        )
        message = self._message(
            person.email,
            f"Confirmez votre inscription – {self.settings.organisation.name}",
            "subscription_confirmation",
            {
                "name": " ".join(filter(None, [person.first_name, person.last_name])) or person.email,
                "accept_url": confirm_url(self.settings, person_id, [i for i, _, _ in rows]),
                "expires_at": _when(datetime.now(UTC) + timedelta(seconds=CONFIRM_MAX_AGE)),
                "reason": f"Vous recevez ce message parce que {origin} pour : {names}. "
                "Si ce n'est pas vous, ignorez-le.",
            },
        )
        return message, None

    async def transmit(self, message: tuple[EmailMessage, UUID | None]) -> str:
        email, invitation_id = message
        answer = await self.pool.send(email)
        if invitation_id is not None:
            # Shown to staff as "sent"; the outbox row holds the server's answer.
            async with open_session(self.db_config) as session:
                await session.execute(
                    update(StaffInvitation).where(StaffInvitation.id == invitation_id).values(sent_at=datetime.now(UTC))
                )
        return answer

    async def refused(self, row: Any, refusal: SmtpError) -> Answer:
        # 5.1.x: the mailbox does not exist; the address is suppressed as a campaign would.
        await suppress_unknown_mailbox(self.db_config, refusal, f"bounced on system message {row.id}")
        return Answer("failed", str(refusal)[:1000])

    async def halt(self, reason: str) -> None:
        log.warning("system_mail_halted", reason=reason)


async def deliver_due(
    settings: Settings, db_config: SQLAlchemyAsyncConfig, redis: Any, pool: SmtpPool, worker: str
) -> int:
    adapter = SystemMail(settings, db_config, pool)
    return await run_in_order(adapter, db_config.get_engine(), settings.sending, redis, worker, BATCH)
