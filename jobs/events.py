"""The messages of events: confirmations, waiting list, promotions, reminders, updates, cancellations,
and the confirmation of a no that follows a yes (it removes the calendar entry).

Each is an `event_notification` row written with the change that called for it. Workers lease due
rows (FOR UPDATE SKIP LOCKED, with a lease that expires), send, and write the SMTP answer at once,
as the campaign engine does: several workers never send one row twice, and a worker that dies
leaves leases that `events_tick` hands back. The tick also queues the reminders that are due with
INSERT ... ON CONFLICT DO NOTHING, so each reminder exists once however often the cron runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import structlog
from sqlalchemy import select, text

from crm.config import Settings
from crm.db.models.event import Event, EventStatus, InvitationStatus, NotificationKind
from crm.domain.association.branding import job_settings
from crm.domain.events.display import summary
from crm.domain.events.ics import calendar
from crm.domain.events.links import rsvp_url
from crm.domain.events.services import queue_for_answers
from crm.lib.mail import OutgoingMessage, SmtpError, base_context, load_template
from crm.lib.services import open_session
from crm.lib.timezones import PARIS
from jobs.context import WORKER_NAME
from jobs.leases import leases_kept

log = structlog.get_logger("jobs.events")
BATCH = 50

CLAIM = text("""
WITH due AS (
    SELECT id FROM event_notification
    WHERE status = 'queued' AND next_attempt_at <= now()
    ORDER BY next_attempt_at, id
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
)
UPDATE event_notification n
SET status = 'leased', lease_expires_at = now() + make_interval(secs => :lease), leased_by = :owner,
    attempts = n.attempts + 1, updated_at = now()
FROM due WHERE n.id = due.id
RETURNING n.id, n.invitation_id, n.kind, n.sequence, n.attempts, n.note
""")

# Just before sending: still ours? (the tick may have handed an expired lease to someone else)
RENEW = text("""
UPDATE event_notification SET lease_expires_at = now() + make_interval(secs => :lease)
WHERE id = :id AND status = 'leased' AND leased_by = :owner RETURNING id
""")

RECORD = text("""
UPDATE event_notification SET status = CAST(:status AS event_notification_status), sent_at = :sent_at,
       smtp_response = :response, lease_expires_at = NULL, updated_at = now()
WHERE id = :id AND status = 'leased' AND leased_by = :owner
""")

RETRY = text("""
UPDATE event_notification
SET status = CASE WHEN attempts >= :max_attempts THEN 'failed' ELSE 'queued' END::event_notification_status,
    next_attempt_at = now() + make_interval(secs => :delay), smtp_response = :response,
    lease_expires_at = NULL, leased_by = NULL, updated_at = now()
WHERE id = :id AND status = 'leased' AND leased_by = :owner
""")

EXPIRED_LEASES = text("""
UPDATE event_notification SET status = 'queued', lease_expires_at = NULL, leased_by = NULL, updated_at = now()
WHERE status = 'leased' AND lease_expires_at < now()
""")

# The invitee, whether their address is suppressed (as campaigns ask, by the hash of the stored
# address) and, on the waiting list, their place in it (waiting order, as seats are given).
DETAILS = text("""
SELECT i.id, i.event_id, i.person_id, i.status, p.first_name, p.last_name, p.email,
       EXISTS (SELECT 1 FROM suppression x
               WHERE x.email_hash = encode(sha256(convert_to(lower(p.email), 'UTF8')), 'hex')) AS suppressed,
       CASE WHEN i.status = 'waiting' THEN
           (SELECT count(*) FROM invitation w WHERE w.event_id = i.event_id AND w.status = 'waiting'
              AND (w.waiting_since, w.id) <= (i.waiting_since, i.id))
       END AS place_in_queue
FROM invitation i JOIN person p ON p.id = i.person_id WHERE i.id = :id
""")

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

DECLINES = text("""
SELECT count(*) FROM event_notification WHERE invitation_id = :id AND kind = 'declined'
""")


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


async def deliver_due(ctx: dict[str, Any]) -> int:
    """Sends every due event message this worker can lease; returns how many went out."""
    settings: Settings = ctx["settings"]
    engine = ctx["db_config"].get_engine()
    owner = f"{WORKER_NAME}:{uuid4().hex[:8]}"
    lease = settings.sending.lease_seconds
    sent = 0
    while True:
        async with engine.begin() as conn:
            batch = (await conn.execute(CLAIM, {"batch": BATCH, "lease": lease, "owner": owner})).all()
        if not batch:
            return sent
        async with engine.connect() as raw, leases_kept(engine, "event_notification", owner, lease):
            conn = await raw.execution_options(isolation_level="AUTOCOMMIT")
            for notification in batch:
                sent += await _deliver_one(ctx, conn, notification, owner)


async def _deliver_one(ctx: dict[str, Any], conn: Any, notification: Any, owner: str) -> int:
    settings = await job_settings(ctx)
    params = {"id": notification.id, "owner": owner}
    details = (await conn.execute(DETAILS, {"id": notification.invitation_id})).one_or_none()
    event = None
    if details is not None:
        async with open_session(ctx["db_config"]) as session:
            event = await session.get(Event, details.event_id)
    kind = str(notification.kind)
    needs = NEEDS.get(kind)
    reason = None
    if details is None or event is None or not details.email:
        reason = "not sent: no invitee or no address"
    elif needs is not None and str(details.status) not in needs:
        reason = f"not sent: the answer is now {details.status}"
    elif kind != "cancellation" and event.status != EventStatus.SCHEDULED:
        reason = "not sent: the event is cancelled"
    elif details.suppressed:
        # The suppression list binds every message, as for campaigns (bounced, complained, erased...).
        reason = "not sent: the address is suppressed"
    if reason:
        await conn.execute(RECORD, params | {"status": "skipped", "sent_at": None, "response": reason})
        return 0
    if (await conn.execute(RENEW, params | {"lease": settings.sending.lease_seconds})).scalar_one_or_none() is None:
        return 0
    assert event is not None
    assert details is not None
    message = build(settings, notification, details, event)
    # Only a person whose calendar holds the entry gets a calendar file: never the waiting list or
    # an invitee who has not answered, whose cancellation would remove nothing.
    has_entry = str(details.status) == "yes"
    if kind in ("waiting", "invitation") or (kind in ("update", "cancellation") and not has_entry):
        email = message.build()
    else:
        cancel = kind in ("cancellation", "declined")
        sequence = await attendee_sequence(conn, notification, event)
        email = with_calendar(settings, message, event, details, cancel=cancel, sequence=sequence)
    try:
        answer = await ctx["mailer"].send(email)
    except SmtpError as exc:
        if exc.permanent:
            await conn.execute(RECORD, params | {"status": "failed", "sent_at": None, "response": str(exc)[:1000]})
        else:
            delay = min(settings.sending.retry_base_seconds * 2 ** (notification.attempts - 1), 3600)
            await conn.execute(
                RETRY,
                params | {"delay": delay, "response": str(exc)[:1000], "max_attempts": settings.sending.max_attempts},
            )
        return 0
    await conn.execute(RECORD, params | {"status": "sent", "sent_at": datetime.now(UTC), "response": answer[:1000]})
    return 1


async def send_event_notifications(ctx: dict[str, Any]) -> str:
    sent = await deliver_due(ctx)
    log.info("event_notifications_sent", sent=sent)
    return f"sent {sent}"


async def queue_reminders(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Queues the reminders due today (Europe/Paris) from the settings' hour: for each number of
    days before, the events that start on that day, to everyone who said yes. Once each."""
    settings: Settings = ctx["settings"]
    now = (now or datetime.now(UTC)).astimezone(PARIS)
    if now.hour < settings.events.reminder_hour:
        return 0
    queued = 0
    async with open_session(ctx["db_config"]) as session:
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


async def events_tick(ctx: dict[str, Any]) -> str:
    """The events cron: hands back expired leases, queues due reminders, sends what waits.
    Safe on every worker at once."""
    async with ctx["db_config"].get_engine().begin() as conn:
        returned = (await conn.execute(EXPIRED_LEASES)).rowcount
    queued = await queue_reminders(ctx)
    sent = await deliver_due(ctx)
    return f"leases returned {returned}, reminders queued {queued}, sent {sent}"


def tick_minutes(settings: Settings) -> set[int]:
    return set(range(0, 60, settings.events.tick_every_minutes))
