"""The mailing and events side of the demo: lists with their subscribers and consent proof,
publications, past campaigns with their deliveries, last winter's label ceremony and next
autumn's congress with invitations and answers.

Who subscribes to what is drawn with the demo's random generator (`plan_mailing`, pure); the
rows that carry rules go through the domain services (lists, publications, events, campaigns:
the campaign's audience, suppression, compiled message and invitations are the engine's own).
Past sends are then closed the way the worker would have closed them, inside the seed's
transaction: every delivery in a final state, every campaign finished, so that seeding mails
nobody and the worker finds nothing to do. Outcomes per recipient hash the address, so the same
seed on the same day gives the same figures."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from crm.config import Settings
from crm.db.models.campaign import CampaignKind, CampaignStatus
from crm.db.models.event import EventKind
from crm.db.models.lists import LegalBasis, ListKind, Subscription, SubscriptionStatus
from crm.db.models.publication import PublicationKind
from crm.domain.campaigns.services import CampaignService
from crm.domain.events.services import EventService
from crm.domain.lists.services import MailingListService
from crm.domain.public.services import CONSENT_TEXTS, CONSENT_VERSION
from crm.domain.publications.services import PublicationService
from crm.lib.timezones import PARIS

NEWSLETTER = "lettre-d-information"
INVITATIONS = "invitations"
PUBLICATIONS = "publications"

# What staff tell the contacts of a member when their address goes on a list without a tick box
# (RGPD art. 6.1.f: a professional address, about the person's functions): the proof is this
# notice, where it came from and when.
MEMBER_NOTICE = (
    "Contact professionnel d’une collectivité adhérente : informations du réseau liées à vos fonctions "
    "(intérêt légitime, art. 6.1.f du RGPD). Désinscription possible à tout moment depuis chaque message."
)
MEMBER_NOTICE_VERSION = "adhesion-2019"
MEMBER_SOURCE = "fichier des adhérents"

LISTS: tuple[dict[str, Any], ...] = (
    {
        "slug": NEWSLETTER,
        "name": "La lettre des villes numériques",
        "description": "Chaque trimestre : les actualités du réseau, les projets des adhérents, les rendez-vous.",
        "kind": ListKind.NEWSLETTER,
        "is_public": True,
        "double_opt_in": True,
    },
    {
        "slug": PUBLICATIONS,
        "name": "Nos publications",
        "description": "Un message à la parution de chaque rapport, enquête ou guide.",
        "kind": ListKind.PUBLICATIONS,
        "is_public": True,
        "double_opt_in": True,
    },
    {
        "slug": INVITATIONS,
        "name": "Invitations aux événements",
        "description": "Congrès, cérémonie du label, assemblée générale : réservé aux élu·es des adhérents.",
        "kind": ListKind.INVITATIONS,
        "is_public": False,
        "double_opt_in": False,
    },
)

# Delivery outcomes, out of 1,000 (by a hash of the address and the campaign): what an SMTP
# server answers for a list of professional addresses.
BOUNCED_PER_MILLE = 12
FAILED_PER_MILLE = 4
LEFT_PER_MILLE = 8  # unsubscribed through the message's link, in the days after it


@dataclass
class Contact:
    person_id: UUID
    email: str
    title: str
    elected: bool
    member: bool  # works for an active member (or a lapsed one still in the file)


@dataclass
class MailingPlan:
    today: date = field(default_factory=date.today)
    lists: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    publications: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    campaigns: list[dict[str, Any]] = field(default_factory=list)  # in sending order

    def counts(self) -> dict[str, int]:
        return {
            "mailing_list": len(self.lists),
            "subscription": len(self.subscriptions),
            "publication": len(self.publications),
            "event": len(self.events),
            "campaign": len(self.campaigns),
        }


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Paris wall-clock time, in UTC as stored."""
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    seconds = max(0, int((end - start).total_seconds()))
    return start + timedelta(seconds=rng.randint(0, seconds))


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _tuesday_before(day: date) -> date:
    """Mail goes out on a working day: the Tuesday on or before `day`."""
    return day - timedelta(days=(day.weekday() - 1) % 7)


def _working_day_from(day: date) -> date:
    """`day`, or the Monday after it when it falls on a weekend."""
    return day + timedelta(days=max(0, 7 - day.weekday()) if day.weekday() >= 5 else 0)


def ceremony_day(today: date) -> date:
    """Last winter's label ceremony: the first Thursday of February, at least three weeks ago."""
    for year in (today.year, today.year - 1):
        day = _weekday_on_or_after(date(year, 2, 1), 3)
        if day <= today - timedelta(days=21):
            return day
    raise AssertionError("one of the two years fits")


def congress_day(today: date) -> date:
    """Next autumn's congress: the second Thursday of October, at least two months ahead."""
    for year in (today.year, today.year + 1):
        day = _weekday_on_or_after(date(year, 10, 8), 3)
        if day >= today + timedelta(days=60):
            return day
    raise AssertionError("one of the two years fits")


def _subscription(
    list_id: UUID, contact: Contact, basis: LegalBasis, at: datetime, status: SubscriptionStatus
) -> dict[str, Any]:
    """One subscription with its proof, as the staff form (legitimate interest) or the public
    form (consent, then the confirmation link) would have recorded it."""
    if basis == LegalBasis.CONSENT:
        proof = {
            "source": "public form",
            "consent_text": CONSENT_TEXTS[CONSENT_VERSION],
            "consent_version": CONSENT_VERSION,
            "consented_at": at,
        }
    else:
        proof = {
            "source": MEMBER_SOURCE,
            "consent_text": MEMBER_NOTICE,
            "consent_version": MEMBER_NOTICE_VERSION,
            "consented_at": None,
        }
    confirmed = None
    if status == SubscriptionStatus.SUBSCRIBED:
        confirmed = at + timedelta(minutes=7) if basis == LegalBasis.CONSENT else at
    return {
        "id": uuid7(),
        "person_id": contact.person_id,
        "list_id": list_id,
        "status": status,
        "legal_basis": basis,
        **proof,
        "confirmed_at": confirmed,
        "unsubscribed_at": None,
        "unsubscribe_reason": None,
        "unsubscribed_via_campaign_id": None,
        "created_at": at,
        "updated_at": confirmed or at,
    }


def plan_mailing(rng: random.Random, today: date, contacts: list[Contact]) -> MailingPlan:
    plan = MailingPlan(today=today)
    list_ids = {}
    for values in LISTS:
        list_ids[values["slug"]] = uuid7()
        plan.lists.append({"id": list_ids[values["slug"]], **values})

    # Consent through the public form only exists since the wording it stores.
    version_start = date(int(CONSENT_VERSION[:4]), int(CONSENT_VERSION[5:7]), 1)
    form_from = _at(max(version_start, today - timedelta(days=700)), 8)
    form_to = _at(today - timedelta(days=2), 20)
    file_from, file_to = _at(today - timedelta(days=1500), 9), _at(today - timedelta(days=400), 18)
    # A third of the contacts get the newsletter, a tenth the publications: enough for figures that
    # look real, few enough deliveries that the first `crm up` stays quick.
    for contact in contacts:
        roll = rng.random()
        if contact.member and roll < 0.25:
            at = _between(rng, file_from, file_to)
            plan.subscriptions.append(
                _subscription(
                    list_ids[NEWSLETTER], contact, LegalBasis.LEGITIMATE_INTEREST, at, SubscriptionStatus.SUBSCRIBED
                )
            )
        elif roll < 0.33:
            at = _between(rng, form_from, form_to)
            plan.subscriptions.append(
                _subscription(list_ids[NEWSLETTER], contact, LegalBasis.CONSENT, at, SubscriptionStatus.SUBSCRIBED)
            )
        if rng.random() < 0.1:
            at = _between(rng, form_from, form_to)
            plan.subscriptions.append(
                _subscription(list_ids[PUBLICATIONS], contact, LegalBasis.CONSENT, at, SubscriptionStatus.SUBSCRIBED)
            )
        # Invitations go to the elected heads and the elected in charge of digital matters.
        head = contact.title.split(" ")[0] in ("Maire", "Président·e")
        if contact.member and contact.elected and (head or "numérique" in contact.title):
            at = _between(rng, file_from, file_to)
            plan.subscriptions.append(
                _subscription(
                    list_ids[INVITATIONS], contact, LegalBasis.LEGITIMATE_INTEREST, at, SubscriptionStatus.SUBSCRIBED
                )
            )
    # A few visitors of the last days have not clicked their confirmation link yet.
    newcomers = [c for c in contacts if not c.member]
    for contact in rng.sample(newcomers, min(8, len(newcomers))):
        at = _between(rng, _at(today - timedelta(days=3), 8), _at(today - timedelta(days=1), 20))
        if not any(
            s["person_id"] == contact.person_id and s["list_id"] == list_ids[NEWSLETTER] for s in plan.subscriptions
        ):
            plan.subscriptions.append(
                _subscription(list_ids[NEWSLETTER], contact, LegalBasis.CONSENT, at, SubscriptionStatus.PENDING)
            )

    ceremony, congress = ceremony_day(today), congress_day(today)
    survey_on = today - timedelta(days=75)
    plan.publications = [
        {
            "id": uuid7(),
            "title": "Gestion de crise dans les collectivités : résultats de l’enquête nationale",
            "kind": PublicationKind.SURVEY_RESULTS,
            "published_on": survey_on,
            "url": "https://example.org/publications/enquete-gestion-de-crise",
            "summary": "Cyberattaques, inondations, canicules : comment 312 collectivités se préparent, "
            "communiquent et assurent la continuité de leurs services. Enquête menée avec l’Agence "
            "nationale de la cohésion des territoires.",
            "is_public": True,
        },
        {
            "id": uuid7(),
            "title": f"Palmarès du label Territoire numérique {ceremony.year - 1}",
            "kind": PublicationKind.REPORT,
            "published_on": ceremony,
            "url": f"https://example.org/publications/palmares-{ceremony.year - 1}",
            "summary": "Les collectivités labellisées, niveau par niveau, et les mentions « numérique "
            "responsable » remises lors de la cérémonie.",
            "is_public": True,
        },
        {
            "id": uuid7(),
            "title": "Guide pratique : la cybersécurité des petites et moyennes collectivités",
            "kind": PublicationKind.GUIDE,
            "published_on": today - timedelta(days=260),
            "url": "https://example.org/publications/guide-cybersecurite",
            "summary": "Dix mesures à prendre en priorité, des modèles de fiches réflexes et les contacts utiles.",
            "is_public": True,
        },
        {
            "id": uuid7(),
            "title": "Note au bureau : bilan financier du congrès précédent",
            "kind": PublicationKind.OTHER,
            "published_on": today - timedelta(days=40),
            "url": None,
            "summary": "Document interne, non diffusé.",
            "is_public": False,
        },
    ]
    survey, palmares, guide = plan.publications[:3]

    plan.events = [
        {
            "id": uuid7(),
            "kind": EventKind.CEREMONY,
            "title": f"Cérémonie de remise du label Territoire numérique {ceremony.year - 1}",
            "description": "Remise des labels et des mentions « numérique responsable », suivie d’un cocktail.",
            "starts_at": _at(ceremony, 14, 30),
            "ends_at": _at(ceremony, 18),
            "venue_name": "Maison de la Mutualité",
            "address": "24 rue Saint-Victor, 75005 Paris",
            "capacity": 900,
            "registration_deadline": _at(ceremony - timedelta(days=7), 23, 59),
            "guests_allowed": True,
        },
        {
            "id": uuid7(),
            "kind": EventKind.CONGRESS,
            "title": f"Congrès des élu·es au numérique {congress.year}",
            "description": "Deux jours de plénières et d’ateliers : données publiques, cybersécurité, "
            "inclusion numérique, sobriété. Dîner des élu·es le premier soir.",
            "starts_at": _at(congress, 9),
            "ends_at": _at(congress + timedelta(days=1), 17),
            "venue_name": "Palais des congrès de Tours – Vinci",
            "address": "26 boulevard Heurteloup, 37000 Tours",
            "capacity": 600,
            "registration_deadline": _at(congress - timedelta(days=14), 23, 59),
            "guests_allowed": False,
        },
    ]
    ceremony_event, congress_event = plan.events

    issue = (today.year - 2019) * 4
    for n, (days_ago, theme) in enumerate(zip((340, 250, 160, 70), NEWSLETTER_ISSUES, strict=True)):
        plan.campaigns.append(
            {
                "name": f"Lettre d'information n° {issue - 3 + n}",
                "kind": CampaignKind.NEWSLETTER,
                "subject": f"La lettre des villes numériques n° {issue - 3 + n} : {theme['title']}",
                "preheader": theme["preheader"],
                "list_slug": NEWSLETTER,
                "template": "newsletter",
                "content": {"blocks": theme["blocks"]},
                "is_public": True,
                "sent_at": _at(_tuesday_before(today - timedelta(days=days_ago)), 10),
            }
        )
    for publication, after in ((guide, 1), (survey, 2), (palmares, 6)):
        plan.campaigns.append(
            {
                "name": f"Annonce : {publication['title']}"[:200],
                "kind": CampaignKind.ANNOUNCEMENT,
                "subject": f"Vient de paraître : {publication['title']}"[:300],
                "preheader": None,
                "list_slug": PUBLICATIONS,
                "template": "announcement",
                "content": {
                    "blocks": [
                        {
                            "type": "text",
                            "text": "Bonjour {{ first_name }},\n\nNotre nouvelle publication est en ligne.",
                        }
                    ]
                },
                "publication_id": publication["id"],
                "is_public": True,
                "sent_at": _at(_working_day_from(publication["published_on"] + timedelta(days=after)), 9, 30),
            }
        )
    for event, weeks_before in ((ceremony_event, 6), (congress_event, 0)):
        starts = event["starts_at"].date()
        sent_on = starts - timedelta(weeks=weeks_before) if weeks_before else today - timedelta(days=12)
        sent_on = _tuesday_before(sent_on)
        plan.campaigns.append(
            {
                "name": f"Invitation : {event['title']}",
                "kind": CampaignKind.INVITATION,
                "subject": f"Vous êtes invité·e : {event['title']}",
                "preheader": None,
                "list_slug": INVITATIONS,
                "template": "invitation",
                "content": {
                    "blocks": [
                        {
                            "type": "text",
                            "text": "Madame, Monsieur {{ last_name }},\n\nLe président et le bureau ont le plaisir "
                            "de vous convier à ce rendez-vous du réseau. Merci de nous dire si vous serez des nôtres.",
                        }
                    ]
                },
                "event_id": event["id"],
                "is_public": False,
                "sent_at": _at(sent_on, 11),
            }
        )
    plan.campaigns.sort(key=lambda c: c["sent_at"])
    return plan


NEWSLETTER_ISSUES: tuple[dict[str, Any], ...] = (
    {
        "title": "le numérique responsable",
        "preheader": "Sobriété, réemploi, achats : ce que font les adhérents",
        "blocks": [
            {"type": "heading", "text": "Sobriété numérique : les collectivités passent à l’acte"},
            {
                "type": "text",
                "text": "Bonjour {{ first_name }},\n\nRéemploi des ordinateurs des écoles, extinction des "
                "écrans la nuit, clauses environnementales dans les marchés : les adhérents partagent "
                "leurs premiers résultats.\n\nRetrouvez les retours d’expérience dans ce numéro.",
            },
            {"type": "button", "label": "Lire les retours d’expérience", "url": "https://example.org/actualites"},
        ],
    },
    {
        "title": "cap sur les données publiques",
        "preheader": "Ouvrir les données sans y passer ses nuits",
        "blocks": [
            {"type": "heading", "text": "Open data : un jeu de données par mois, c’est possible"},
            {
                "type": "text",
                "text": "Bonjour {{ first_name }},\n\nLe groupe de travail « Réseau open data » publie sa "
                "méthode : commencer par les données que l’on publie déjà sur papier.\n\nProchaine "
                "réunion en visioconférence le mois prochain : inscrivez-vous auprès de l’équipe.",
            },
        ],
    },
    {
        "title": "cybersécurité, l’affaire de tous",
        "preheader": "Exercice de crise, sauvegardes, sensibilisation des agents",
        "blocks": [
            {"type": "heading", "text": "Cyberattaque : êtes-vous prêts pour lundi matin ?"},
            {
                "type": "text",
                "text": "Bonjour {{ first_name }},\n\nTrois adhérents racontent l’exercice de crise qu’ils "
                "ont organisé avec leurs services. Ce qu’ils referaient, ce qu’ils changeraient.\n\n"
                "Notre guide pratique reste disponible pour préparer le vôtre.",
            },
            {"type": "divider"},
            {
                "type": "text",
                "text": "L’enquête nationale sur la gestion de crise est ouverte : répondez avant la fin du mois.",
            },
        ],
    },
    {
        "title": "rendez-vous au congrès",
        "preheader": "Le programme du congrès des élu·es se dessine",
        "blocks": [
            {"type": "heading", "text": "Le congrès des élu·es au numérique se prépare"},
            {
                "type": "text",
                "text": "Bonjour {{ first_name }},\n\nPlénières, ateliers et visites : le programme du "
                "prochain congrès prend forme. Les invitations partent bientôt vers les élu·es des "
                "collectivités adhérentes.\n\nVous souhaitez intervenir ? Écrivez-nous.",
            },
        ],
    },
)


# --- writing it --------------------------------------------------------------------------------

# Per mille of a recipient, for one campaign: stable for a given address and salt.
_ROLL = "(get_byte(decode(md5({email} || :salt), 'hex'), 0) * 256 + get_byte(decode(md5({email} || :salt), 'hex'), 1)) % 1000"

# One pass over the rows, the roll written out where it is needed: a join of the rows with their
# rolls would cost a second lookup per delivery.
_D = _ROLL.format(email="d.email")
CLOSE_DELIVERIES = text(f"""
UPDATE delivery d SET
    status = CASE WHEN {_D} < CAST(:bounced AS integer) THEN 'bounced'
                  WHEN {_D} < CAST(:bounced AS integer) + CAST(:failed AS integer) THEN 'failed'
                  ELSE 'sent' END::delivery_status,
    attempts = CASE WHEN {_D} >= CAST(:bounced AS integer)
                     AND {_D} < CAST(:bounced AS integer) + CAST(:failed AS integer) THEN 3 ELSE 1 END,
    sent_at = CASE WHEN {_D} >= CAST(:bounced AS integer) + CAST(:failed AS integer)
                   THEN CAST(:started AS timestamptz) + make_interval(secs => {_D} * 1.8) END,
    smtp_response = CASE WHEN {_D} < CAST(:bounced AS integer)
                         THEN '550 5.1.1 <' || d.email || '>: Recipient address rejected'
                         WHEN {_D} < CAST(:bounced AS integer) + CAST(:failed AS integer)
                         THEN '451 4.7.1 Try again later'
                         ELSE '250 2.0.0 Ok: queued' END,
    next_attempt_at = CAST(:started AS timestamptz), lease_expires_at = NULL, leased_by = NULL,
    updated_at = CAST(:finished AS timestamptz)
WHERE d.campaign_id = :campaign_id
""")

# A bounced address is suppressed, as the worker does: later campaigns leave it out.
SUPPRESS_BOUNCED = text("""
INSERT INTO suppression (id, email_hash, reason, note, created_at, updated_at)
SELECT gen_random_uuid(), encode(sha256(convert_to(lower(d.email), 'UTF8')), 'hex'), 'hard_bounce',
       'campaign ' || d.campaign_id, CAST(:finished AS timestamptz), CAST(:finished AS timestamptz)
FROM delivery d WHERE d.campaign_id = :campaign_id AND d.status = 'bounced'
ON CONFLICT (email_hash) DO NOTHING
""")

# Some recipients left the list through the message's one-click link in the following days.
LEFT_THROUGH_LINK = text(f"""
WITH rolled AS (
    SELECT person_id, campaign_id, {_ROLL.format(email="email")} AS roll
    FROM delivery WHERE campaign_id = :campaign_id AND status = 'sent'
)
UPDATE subscription s SET status = 'unsubscribed',
    unsubscribed_at = CAST(:finished AS timestamptz) + make_interval(secs => r.roll * 150),
    unsubscribe_reason = 'one-click link (campaign ' || r.campaign_id || ')',
    unsubscribed_via_campaign_id = r.campaign_id, updated_at = CAST(:finished AS timestamptz)
FROM rolled r
WHERE s.person_id = r.person_id AND s.list_id = :list_id AND r.roll >= 1000 - CAST(:left AS integer)
""")

# Answers to an invitation, by a hash of the address: yes (some with a guest), no, or none yet.
ANSWER = text(f"""
WITH rolled AS (
    SELECT i.id, {_ROLL.format(email="p.email")} AS roll
    FROM invitation i JOIN person p ON p.id = i.person_id
    WHERE i.event_id = :event_id
)
UPDATE invitation i SET
    status = CASE WHEN r.roll < CAST(:yes AS integer) THEN 'yes'
                  WHEN r.roll < CAST(:yes AS integer) + CAST(:no AS integer) THEN 'no'
                  ELSE 'invited' END::invitation_status,
    with_guest = CAST(:guests AS boolean) AND r.roll < CAST(:yes AS integer) AND r.roll % 5 = 0,
    answered_at = CASE WHEN r.roll < CAST(:yes AS integer) + CAST(:no AS integer)
                       THEN CAST(:sent AS timestamptz) + CAST(:window AS interval) * ((r.roll % 97) / 97.0) END,
    first_opened_at = CASE WHEN r.roll < CAST(:yes AS integer) + CAST(:no AS integer) + 150
                           THEN CAST(:sent AS timestamptz) + CAST(:window AS interval) * ((r.roll % 89) / 178.0) END,
    checked_in_at = CASE WHEN CAST(:past AS boolean) AND r.roll < CAST(:yes AS integer) AND r.roll % 7 <> 0
                         THEN CAST(:starts AS timestamptz) + make_interval(secs => r.roll * 2) END,
    updated_at = CAST(:sent AS timestamptz) + CAST(:window AS interval)
FROM rolled r WHERE r.id = i.id
""")


async def write_mailing(session: AsyncSession, plan: MailingPlan, settings: Settings) -> None:
    """Lists, publications and events through their services; subscriptions in bulk (thousands of
    rows, each with its proof); then each past campaign sent and closed, in date order."""
    # Core, not ORM: thousands of plain rows, no unit of work (the ORM bulk path is four times slower).
    SUBSCRIPTION: Table = Subscription.__table__  # type: ignore[assignment]
    lists = MailingListService(session=session)
    for values in plan.lists:
        await lists.add(dict(values))
    publications = PublicationService(session=session)
    for values in plan.publications:
        await publications.add(dict(values))
    events = EventService(session=session)
    for values in plan.events:
        await events.create_event(dict(values))
    await session.flush()
    for i in range(0, len(plan.subscriptions), 2_000):
        await session.execute(insert(SUBSCRIPTION), plan.subscriptions[i : i + 2_000])

    list_ids = {values["slug"]: values["id"] for values in plan.lists}
    campaigns = CampaignService(session=session)
    # The seed's day, not the clock: the same seed on the same day gives the same answers.
    today = _at(plan.today, 8)
    for values in plan.campaigns:
        values = dict(values)
        sent_at: datetime = values.pop("sent_at")
        values["list_id"] = list_ids[values.pop("list_slug")]
        values.setdefault("from_name", settings.organisation.sender_name)
        values.setdefault("from_email", settings.organisation.sender_email)
        campaign = await campaigns.create_campaign(values)
        campaign = await campaigns.start(campaign.id, settings, at=sent_at)
        finished = sent_at + timedelta(minutes=45)
        salt = campaign.name
        figures = {"bounced": BOUNCED_PER_MILLE, "failed": FAILED_PER_MILLE}
        common = {"campaign_id": campaign.id, "salt": salt, "started": sent_at, "finished": finished}
        await session.execute(CLOSE_DELIVERIES, common | figures)
        await session.execute(SUPPRESS_BOUNCED, {"campaign_id": campaign.id, "finished": finished})
        if campaign.kind == CampaignKind.NEWSLETTER:
            await session.execute(LEFT_THROUGH_LINK, common | {"list_id": campaign.list_id, "left": LEFT_PER_MILLE})
        if campaign.event_id is not None:
            event = next(e for e in plan.events if e["id"] == campaign.event_id)
            past = event["starts_at"] < today
            window = min(event["registration_deadline"], today) - sent_at
            await session.execute(
                ANSWER,
                {
                    "event_id": event["id"],
                    "salt": salt,
                    "yes": 520 if past else 330,
                    "no": 210 if past else 120,
                    "guests": event["guests_allowed"],
                    "sent": sent_at,
                    "window": window,
                    "past": past,
                    "starts": event["starts_at"],
                },
            )
        campaign.status = CampaignStatus.FINISHED
        campaign.finished_at = finished
        await session.flush()
