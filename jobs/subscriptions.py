"""The double opt-in message: a link that confirms pending subscriptions.

Safe to run twice: only subscriptions still pending are named in the link, a suppressed address
gets nothing, and a second confirmation e-mail is harmless."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from uuid import UUID

import structlog
from sqlalchemy import select

from crm.db.models.mailing import MailingList, Subscription, SubscriptionStatus
from crm.db.models.person import Person
from crm.domain.association.branding import job_settings
from crm.domain.lists.links import CONFIRM_MAX_AGE, confirm_url
from crm.domain.lists.services import is_suppressed
from crm.lib.mail import OutgoingMessage, base_context, load_template
from crm.lib.services import open_session
from jobs.context import JobContext
from jobs.system_mail import _deliver, _when

log = structlog.get_logger("jobs.subscriptions")


async def send_subscription_confirmation(ctx: JobContext, *subscription_ids: str) -> int:
    """Returns how many messages were sent (one per person)."""
    settings = await job_settings(ctx)
    org = settings.organisation
    ids = [UUID(i) for i in subscription_ids]
    async with open_session(ctx["db_config"]) as session:
        rows = (
            await session.execute(
                select(Subscription.id, Subscription.person_id, MailingList.name, Subscription.source)
                .join(MailingList, MailingList.id == Subscription.list_id)
                .where(Subscription.id.in_(ids), Subscription.status == SubscriptionStatus.PENDING)
                .order_by(MailingList.name)
            )
        ).all()
        by_person: dict[UUID, list[tuple[UUID, str]]] = defaultdict(list)
        from_form: set[UUID] = set()
        for subscription_id, person_id, list_name, source in rows:
            by_person[person_id].append((subscription_id, list_name))
            if source == "public form":
                from_form.add(person_id)
        people = {p.id: p for p in (await session.scalars(select(Person).where(Person.id.in_(by_person)))).all()}
        suppressed = {pid for pid, p in people.items() if not p.email or await is_suppressed(session, p.email)}
    sent = 0
    template = load_template("subscription_confirmation")
    for person_id, items in by_person.items():
        person = people.get(person_id)
        if person is None or person_id in suppressed:
            continue
        names = ", ".join(name for _, name in items)
        # Staff may record a consent given elsewhere (a paper form, an event): say where it came from.
        origin = (
            "votre adresse a été saisie sur notre formulaire d'inscription"
            if person_id in from_form
            else "votre inscription nous a été transmise"
        )
        html, text = template.render(
            base_context(org)
            | {
                "name": " ".join(filter(None, [person.first_name, person.last_name])) or person.email,
                "accept_url": confirm_url(settings, person_id, [i for i, _ in items]),
                "expires_at": _when(datetime.now(UTC) + timedelta(seconds=CONFIRM_MAX_AGE)),
                "reason": f"Vous recevez ce message parce que {origin} pour : {names}. "
                "Si ce n'est pas vous, ignorez-le.",
            }
        )
        assert person.email is not None
        await _deliver(
            ctx,
            OutgoingMessage(
                to=person.email,
                subject=f"Confirmez votre inscription – {org.name}",
                html=html,
                text=text,
                sender=org.sender_email,
                sender_name=org.sender_name,
                reply_to=org.reply_to or None,
            ),
        )
        sent += 1
    log.info("subscription_confirmation_sent", messages=sent)
    return sent
