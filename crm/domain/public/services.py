"""What contacts do from public pages, without an account: subscribe (double opt-in), confirm,
unsubscribe in one click, set their preferences. The signed link is the proof of who acts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.campaign import Campaign
from crm.db.models.lists import LegalBasis, MailingList, Subscription, SubscriptionStatus
from crm.db.models.person import Person
from crm.db.models.publication import Publication
from crm.db.models.suppression import SuppressionReason
from crm.domain.campaigns.rendering import fill_line
from crm.domain.labels.schemas import Palmares
from crm.domain.labels.services import LabelService
from crm.domain.lists.services import SubscriptionService, SuppressionService, is_suppressed
from crm.lib.mail import TemplateError

# The consent wording shown on the public form, by version: a subscription stores the version
# and the text the person saw. A new wording gets a new version; old ones stay for the proof.
CONSENT_TEXTS = {
    "2026-01": "J’accepte que l’association m’envoie les lettres et informations choisies ci-dessus. "
    "Je peux me désinscrire à tout moment en un clic depuis chaque message.",
}
CONSENT_VERSION = "2026-01"
PREFERENCES_CONSENT_VERSION = "preferences-2026-01"
PREFERENCES_CONSENT_TEXT = (
    "Abonnement choisi par la personne sur sa page de préférences (lien personnel reçu par e-mail)."
)

STATUS_LABELS = {
    SubscriptionStatus.SUBSCRIBED: "abonné·e",
    SubscriptionStatus.PENDING: "en attente de confirmation",
    SubscriptionStatus.UNSUBSCRIBED: "désabonné·e",
    None: "non abonné·e",
}


async def public_lists(session: AsyncSession) -> list[MailingList]:
    return list(
        (
            await session.scalars(select(MailingList).where(MailingList.is_public.is_(True)).order_by(MailingList.name))
        ).all()
    )


@dataclass
class SubscribeOutcome:
    # Pending subscriptions to send a confirmation for (empty when nothing is to be sent).
    to_confirm: list[UUID] = field(default_factory=list)


async def subscribe_from_form(
    session: AsyncSession,
    *,
    email: str,
    first_name: str,
    last_name: str,
    lists: list[MailingList],
    consent_version: str,
) -> SubscribeOutcome:
    """The public form. The answer the visitor sees never depends on what is stored (a known
    address, a suppressed one, an existing subscription): it would tell strangers who is here."""
    outcome = SubscribeOutcome()
    if await is_suppressed(session, email):
        return outcome
    person = await session.scalar(select(Person).where(Person.email == email))
    if person is None:
        person = Person(email=email, first_name=first_name, last_name=last_name)
        session.add(person)
        await session.flush()
    # An anonymous form never overwrites a known person's name: anyone can type any address.
    subscriptions = SubscriptionService(session=session)
    now = datetime.now(UTC)
    version = consent_version if consent_version in CONSENT_TEXTS else CONSENT_VERSION
    for mailing_list in lists:
        existing = await subscriptions.get_one_or_none(
            Subscription.person_id == person.id, Subscription.list_id == mailing_list.id
        )
        if existing is not None and existing.status == SubscriptionStatus.SUBSCRIBED:
            continue
        subscription = existing or Subscription(person_id=person.id, list_id=mailing_list.id)
        subscription.legal_basis = LegalBasis.CONSENT
        subscription.source = "public form"
        subscription.consent_text = CONSENT_TEXTS[version]
        subscription.consent_version = version
        subscription.consented_at = now
        subscription.unsubscribed_at = None
        subscription.unsubscribe_reason = None
        subscription.unsubscribed_via_campaign_id = None
        if mailing_list.double_opt_in:
            subscription.status = SubscriptionStatus.PENDING
            subscription.confirmed_at = None
        else:
            subscription.status = SubscriptionStatus.SUBSCRIBED
            subscription.confirmed_at = now
        subscription = await (subscriptions.update(subscription) if existing else subscriptions.create(subscription))
        if subscription.status == SubscriptionStatus.PENDING:
            outcome.to_confirm.append(subscription.id)
    return outcome


async def confirmation_details(
    session: AsyncSession, person_id: UUID, subscription_ids: list[UUID]
) -> tuple[Person | None, list[str]]:
    person = await session.get(Person, person_id)
    names = (
        await session.scalars(
            select(MailingList.name)
            .join(Subscription, Subscription.list_id == MailingList.id)
            .where(Subscription.id.in_(subscription_ids), Subscription.person_id == person_id)
            .order_by(MailingList.name)
        )
    ).all()
    return person, list(names)


@dataclass
class PreferenceRow:
    list_id: UUID
    slug: str
    name: str
    description: str | None
    status: SubscriptionStatus | None

    @property
    def checked(self) -> bool:
        return self.status in (SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.PENDING)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


async def preference_rows(session: AsyncSession, person_id: UUID) -> list[PreferenceRow]:
    """The public lists, plus any list the person currently receives (so that they can leave it)."""
    statuses = dict(
        (
            await session.execute(
                select(Subscription.list_id, Subscription.status).where(Subscription.person_id == person_id)
            )
        ).all()
    )
    active = [k for k, v in statuses.items() if v != SubscriptionStatus.UNSUBSCRIBED]
    lists = (
        await session.scalars(
            select(MailingList)
            .where(or_(MailingList.is_public.is_(True), MailingList.id.in_(active)))
            .order_by(MailingList.name)
        )
    ).all()
    return [PreferenceRow(m.id, m.slug, m.name, m.description, statuses.get(m.id)) for m in lists]


async def campaign_of_link(session: AsyncSession, value: Any) -> UUID | None:
    """The campaign named in a signed link, if it still exists (a deleted one counts nothing)."""
    if not value:
        return None
    try:
        campaign_id = UUID(str(value))
    except ValueError:
        return None
    return campaign_id if await session.get(Campaign, campaign_id) is not None else None


async def set_preferences(
    session: AsyncSession, person: Person, wanted_slugs: set[str], campaign_id: UUID | None = None
) -> None:
    """Subscribes to the checked lists and leaves the unchecked ones. The link came to the
    person's mailbox, so a list chosen here needs no second confirmation. `campaign_id`: the
    campaign whose message carried the link."""
    subscriptions = SubscriptionService(session=session)
    suppressions = SuppressionService(session=session)
    now = datetime.now(UTC)
    rows = await preference_rows(session, person.id)
    if any(row.slug in wanted_slugs and not row.checked for row in rows) and person.email:
        # The person chose to receive mail again: their own "leave everything" no longer holds.
        # A bounce or a complaint is not theirs to lift.
        await suppressions.lift(person.email, frozenset({SuppressionReason.UNSUBSCRIBED_ALL}))
    for row in rows:
        if row.slug in wanted_slugs and not row.checked:
            if not person.email or await is_suppressed(session, person.email):
                continue
            existing = await subscriptions.get_one_or_none(
                Subscription.person_id == person.id, Subscription.list_id == row.list_id
            )
            subscription = existing or Subscription(person_id=person.id, list_id=row.list_id)
            subscription.status = SubscriptionStatus.SUBSCRIBED
            subscription.legal_basis = LegalBasis.CONSENT
            subscription.source = "preference page"
            subscription.consent_text = PREFERENCES_CONSENT_TEXT
            subscription.consent_version = PREFERENCES_CONSENT_VERSION
            subscription.consented_at = now
            subscription.confirmed_at = now
            subscription.unsubscribed_at = None
            subscription.unsubscribe_reason = None
            subscription.unsubscribed_via_campaign_id = None
            await (subscriptions.update(subscription) if existing else subscriptions.create(subscription))
        elif row.slug not in wanted_slugs and row.checked:
            await subscriptions.unsubscribe_from(person.id, row.list_id, "preference page", campaign_id)


async def leave_everything(session: AsyncSession, person: Person, campaign_id: UUID | None = None) -> None:
    await SubscriptionService(session=session).unsubscribe_everywhere(
        person.id, "left everything (preference page)", campaign_id
    )
    if person.email:
        await SuppressionService(session=session).suppress(
            person.email, SuppressionReason.UNSUBSCRIBED_ALL, "preference page", exists_ok=True
        )


@dataclass
class ArchiveEntry:
    title: str
    date: date | None
    url: str | None


async def public_publications(session: AsyncSession) -> list[Publication]:
    return list(
        (
            await session.scalars(
                select(Publication)
                .where(Publication.is_public.is_(True))
                .order_by(Publication.published_on.desc(), Publication.title)
            )
        ).all()
    )


async def public_campaigns(session: AsyncSession) -> list[ArchiveEntry]:
    """Public campaigns once sent: their subject and date, and a link to their web view."""
    rows: Any = (
        await session.execute(
            select(Campaign.id, Campaign.subject, Campaign.started_at)
            .where(Campaign.is_public.is_(True), Campaign.started_at.is_not(None))
            .order_by(Campaign.started_at.desc())
        )
    ).all()
    return [
        ArchiveEntry(
            title=_public_title(subject), date=started.date() if started else None, url=f"/archive/campaigns/{cid}"
        )
        for cid, subject, started in rows
    ]


def _public_title(subject: str) -> str:
    """The subject as the archive shows it: a recipient's placeholders left empty."""
    try:
        return fill_line(subject, {}) or subject
    except TemplateError:
        return subject


async def archived_html(session: AsyncSession, campaign_id: UUID, render: Callable[[Campaign], str]) -> str | None:
    """The web copy of a public campaign, made once (when the send starts) and served as it is:
    an anonymous visit never renders a staff-written template. A campaign sent before copies were
    kept gets its copy on its first visit, rendered off the event loop and kept for every process;
    one that cannot be rendered keeps an empty copy (shown as missing), not a render per visit."""
    campaign = await public_campaign(session, campaign_id)
    if campaign is None:
        return None
    html = await session.scalar(select(Campaign.archive_html).where(Campaign.id == campaign_id))
    if html is None:
        try:
            html = await asyncio.to_thread(render, campaign)
        except TemplateError:
            html = ""
        await session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.archive_html.is_(None))
            .values(archive_html=html)
        )
        await session.commit()
    return html


async def public_campaign(session: AsyncSession, campaign_id: UUID) -> Campaign | None:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None or not campaign.is_public or campaign.started_at is None or not campaign.compiled_html:
        return None
    return campaign


async def public_palmares(session: AsyncSession, year: int) -> Palmares | None:
    """The palmarès of a year on the public site: none for a year still to come (results may be
    entered before they are announced) or a year without labels."""
    if not 2000 <= year <= date.today().year:
        return None
    palmares = await LabelService(session=session).palmares(year)
    return palmares if palmares.total else None
