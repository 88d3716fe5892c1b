"""The messages of events: confirmations, waiting list, promotions, reminders, updates, cancellations,
and the confirmation of a no that follows a yes (it removes the calendar entry).

Each is an `event_notification` row written with the change that called for it, and a consumer of
the outbox engine (crm.domain.outbox): leased, confirmed, sent and recorded as campaign deliveries
are, with the suppression list asked just before each message. This module says what to render
and what still makes a message relevant when its turn comes. The events cron also queues the
reminders that are due with INSERT ... ON CONFLICT DO NOTHING, so each reminder exists once however
often the cron runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import structlog
from advanced_alchemy.config import SQLAlchemyAsyncConfig
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm.config import Settings
from crm.db.models.event import Event, EventStatus, InvitationStatus, NotificationKind
from crm.domain.events.display import summary
from crm.domain.events.ics import calendar
from crm.domain.events.links import rsvp_url
from crm.domain.events.services import queue_for_answers
from crm.domain.outbox.engine import Answer, run_in_order
from crm.domain.outbox.queries import DECLINES, INVITEE, OutboxTable
from crm.domain.outbox.suppression import suppress_unknown_mailbox
from crm.lib.mail import OutgoingMessage, SmtpError, SmtpPool, base_context, load_template
from crm.lib.services import open_session
from crm.lib.timezones import PARIS

log = structlog.get_logger("crm.events.notifications")
BATCH = 50

NOTIFICATIONS = OutboxTable(
    name="event_notification",
    status_type="event_notification_status",
    columns=("t.invitation_id", "t.kind", "t.sequence", "t.note"),
    # The invitee's address now (it may have changed since the message was queued).
    address="(SELECT p.email FROM invitation i JOIN person p ON p.id = i.person_id WHERE i.id = t.invitation_id)",
)

# Which answer a message still needs when its turn comes; None: always sent.
NEEDS: dict[str, tuple[str, ...] | None] = {
    "confirmation": ("yes",),
    "promoted": ("yes",),
    "reminder": ("yes",),
    "update": ("yes", "waiting"),
    "waiting": ("waiting",),
    "declined": ("no",),
    "cancellation": None,
    "invitation": ("invited",),
}


async def attendee_sequence(conn: Any, notification: Any, event: Event) -> int:
    """The calendar SEQUENCE of one attendee's file: the event's, raised by two for each time this
    person declined, so that their files only ever grow newer: yes (N), the no that removes the
    entry (N+1), yes again (N+2)... A staff change raises the event's own number for everyone."""
    if str(notification.kind) == "declined":
        return event.ics_sequence + 2 * notification.sequence + 1
    declines = (await conn.execute(DECLINES, {"id": notification.invitation_id})).scalar_one()
    return event.ics_sequence + 2 * int(declines)


def _days(n: int) -> str:
    return "demain" if n == 1 else f"dans {n} jours"


def _texts(kind: str, sequence: int, title: str, details: Any = None) -> tuple[str, str, str]:
    """(subject, heading, lead) of each kind of message."""
    status = str(details.status) if details is not None else ""
    if kind == "invitation":
        return (
            f"Invitation : {title}",
            "Vous êtes invité·e",
            "Nous avons le plaisir de vous inviter à l’événement ci-dessous. Dites-nous si vous venez avec "
            "les boutons ci-dessous : vous pourrez changer votre réponse jusqu’à la clôture des inscriptions.",
        )
    if kind == "waiting":
        rank = getattr(details, "place_in_queue", None)
        where = f"Vous êtes n° {rank} sur la liste d’attente" if rank else "Vous êtes sur la liste d’attente"
        return (
            f"Liste d’attente : {title}",
            where,
            f"Il n’y a pas assez de places libres pour le moment. {where} : les places qui se libèrent sont "
            "attribuées dans l’ordre des réponses, et nous vous écrirons aussitôt.",
        )
    if kind == "update" and status == "waiting":
        return (
            f"Changement : {title}",
            "L’événement a changé",
            "La date ou le lieu de l’événement pour lequel vous êtes sur la liste d’attente a changé. Vous "
            "gardez votre place dans la file ; si vous ne pouvez plus venir, dites-le-nous avec le lien "
            "ci-dessous.",
        )
    if kind == "confirmation":
        return (
            f"Participation confirmée : {title}",
            "Votre participation est confirmée",
            "Merci pour votre réponse : nous avons le plaisir de vous confirmer votre participation. "
            "Le rendez-vous est joint à ce message, à ajouter à votre agenda.",
        )
    if kind == "promoted":
        return (
            f"Une place s’est libérée : {title}",
            "Une place s’est libérée pour vous",
            "Bonne nouvelle : une place s’est libérée et votre participation est désormais confirmée. "
            "Le rendez-vous est joint à ce message. Si vous ne pouvez plus venir, dites-le-nous avec le lien "
            "ci-dessous, pour laisser la place à quelqu’un d’autre.",
        )
    if kind == "reminder":
        return (
            f"Rappel : {title}, {_days(sequence)}",
            f"C’est {_days(sequence)}",
            "Nous vous rappelons votre participation à l’événement ci-dessous. Un empêchement ? Dites-le-nous "
            "avec le lien ci-dessous, pour laisser la place à quelqu’un d’autre.",
        )
    if kind == "update":
        return (
            f"Changement : {title}",
            "L’événement a changé",
            "La date ou le lieu de l’événement auquel vous participez a changé. Voici les nouvelles "
            "informations ; le rendez-vous joint remplace le précédent dans votre agenda.",
        )
    if kind == "declined":
        return (
            f"Réponse enregistrée : {title}",
            "Vous ne participez pas",
            "Nous avons bien noté que vous ne participerez pas à l’événement ci-dessous. Le fichier joint "
            "le retire de votre agenda. Si vous changez d’avis avant la clôture des réponses, répondez "
            "de nouveau avec le lien ci-dessous.",
        )
    return (
        f"Annulé : {title}",
        "L’événement est annulé",
        "Nous sommes au regret de vous informer que l’événement ci-dessous est annulé."
        + (" Le fichier joint le retire de votre agenda." if status == "yes" else ""),
    )


def build(settings: Settings, notification: Any, details: Any, event: Event) -> OutgoingMessage:
    org = settings.organisation
    domain = org.mail_domain
    kind = str(notification.kind)
    subject, heading, lead = _texts(kind, notification.sequence, event.title, details)
    name = f"{details.first_name} {details.last_name}".strip()
    shown = summary(event)
    template = load_template("events/notification")
    html, plain = template.render(
        base_context(org)
        | {
            "heading": heading,
            "name": name,
            "lead": lead,
            "event_title": event.title,
            "event_when": shown["when"],
            "event_place": shown["place"],
            "online_url": shown["online_url"],
            "closing": f"Des questions ? Répondez simplement à ce message ({org.sender_email}).",
            "note": getattr(notification, "note", None) or "",
            "seats": shown["seats"] if kind == "invitation" else "",
            "rsvp_yes_url": rsvp_url(settings, event.id, details.person_id, "yes") if kind == "invitation" else "",
            "rsvp_no_url": rsvp_url(settings, event.id, details.person_id, "no") if kind == "invitation" else "",
            "rsvp_url": ""
            if kind in ("cancellation", "invitation")
            else rsvp_url(settings, event.id, details.person_id),
            "reason": f"Vous recevez ce message parce que vous avez été invité·e à « {event.title} »"
            + ("." if kind == "invitation" else " et que vous y avez répondu."),
        }
    )
    message = OutgoingMessage(
        to=details.email,
        subject=subject,
        html=html,
        text=plain,
        sender=org.sender_email,
        sender_name=org.sender_name,
        reply_to=org.reply_to or None,
        message_id=f"<event-notification-{notification.id}@{domain}>",
    )
    return message


def with_calendar(
    settings: Settings, message: OutgoingMessage, event: Event, details: Any, cancel: bool, sequence: int | None = None
) -> Any:
    org = settings.organisation
    ics = calendar(
        event,
        domain=org.mail_domain,
        organiser_name=org.sender_name,
        organiser_email=org.sender_email,
        attendee_email=details.email,
        attendee_name=f"{details.first_name} {details.last_name}".strip(),
        cancel=cancel,
        sequence=sequence,
    )
    email = message.build()
    email.add_attachment(
        ics,
        maintype="text",
        subtype="calendar",
        filename="invitation.ics",
        # The file is UTF-8 ("Cérémonie", "Hôtel de ville"): said so, or clients guess and garble it.
        params={"method": "CANCEL" if cancel else "REQUEST", "charset": "utf-8"},
    )
    return email


class EventNotifications:
    """The adapter of event messages (one lane: an invitee's messages go out in order)."""

    table = NOTIFICATIONS
    unwanted = Answer("skipped", "not sent: the address is suppressed")

    def __init__(self, settings: Settings, db_config: SQLAlchemyAsyncConfig, pool: SmtpPool) -> None:
        self.settings = settings
        self.db_config = db_config
        self.pool = pool
        self.events: dict[UUID, Event | None] = {}

    def wanted_params(self) -> dict[str, Any]:
        return {}

    async def prepare(self, conn: AsyncConnection, rows: Sequence[Any]) -> None:
        """Nothing: each message reads its invitee when its turn comes (their answer may change)."""

    async def event(self, event_id: UUID) -> Event | None:
        if event_id not in self.events:
            async with open_session(self.db_config) as session:
                self.events[event_id] = await session.get(Event, event_id)
        return self.events[event_id]

    async def compose(self, conn: AsyncConnection, notification: Any) -> EmailMessage | Answer:
        details = (await conn.execute(INVITEE, {"id": notification.invitation_id})).one_or_none()
        event = await self.event(details.event_id) if details is not None else None
        kind = str(notification.kind)
        needs = NEEDS.get(kind)
        if details is None or event is None or not details.email:
            return Answer("skipped", "not sent: no invitee or no address")
        if needs is not None and str(details.status) not in needs:
            return Answer("skipped", f"not sent: the answer is now {details.status}")
        if kind != "cancellation" and event.status != EventStatus.SCHEDULED:
            return Answer("skipped", "not sent: the event is cancelled")
        message = build(self.settings, notification, details, event)
        # Only a person whose calendar holds the entry gets a calendar file: never the waiting list
        # or an invitee who has not answered, whose cancellation would remove nothing.
        has_entry = str(details.status) == "yes"
        if kind in ("waiting", "invitation") or (kind in ("update", "cancellation") and not has_entry):
            return message.build()
        cancel = kind in ("cancellation", "declined")
        sequence = await attendee_sequence(conn, notification, event)
        return with_calendar(self.settings, message, event, details, cancel=cancel, sequence=sequence)

    async def transmit(self, message: EmailMessage) -> str:
        return await self.pool.send(message)

    async def refused(self, row: Any, refusal: SmtpError) -> Answer:
        # 5.1.x: the mailbox does not exist; the address is suppressed as a campaign would.
        await suppress_unknown_mailbox(self.db_config, refusal, f"bounced on event message {row.id}")
        return Answer("failed", str(refusal)[:1000])

    async def halt(self, reason: str) -> None:
        # The rows stay queued with their backoff; the next tick or job tries again.
        log.warning("event_notifications_halted", reason=reason)


async def deliver_due(
    settings: Settings, db_config: SQLAlchemyAsyncConfig, redis: Any, pool: SmtpPool, worker: str
) -> int:
    """Sends every due event message this run can lease; returns how many went out."""
    adapter = EventNotifications(settings, db_config, pool)
    return await run_in_order(adapter, db_config.get_engine(), settings.sending, redis, worker, BATCH)


async def queue_reminders(settings: Settings, db_config: SQLAlchemyAsyncConfig, now: datetime | None = None) -> int:
    """Queues the reminders due today (Europe/Paris) from the settings' hour: for each number of
    days before, the events that start on that day, to everyone who said yes. Once each."""
    now = (now or datetime.now(UTC)).astimezone(PARIS)
    if now.hour < settings.events.reminder_hour:
        return 0
    queued = 0
    async with open_session(db_config) as session:
        for days in sorted(set(settings.events.reminder_days_before)):
            day = now.date() + timedelta(days=days)
            start = datetime(day.year, day.month, day.day, tzinfo=PARIS)
            end = start + timedelta(days=1)
            events = (
                await session.scalars(
                    select(Event.id).where(
                        Event.status == EventStatus.SCHEDULED,
                        Event.starts_at >= start.astimezone(UTC),
                        Event.starts_at < end.astimezone(UTC),
                        Event.starts_at > now.astimezone(UTC),
                    )
                )
            ).all()
            for event_id in events:
                queued += await queue_for_answers(
                    session, event_id, [InvitationStatus.YES], NotificationKind.REMINDER, days
                )
    return queued


def tick_minutes(settings: Settings) -> set[int]:
    return set(range(0, 60, settings.events.tick_every_minutes))
