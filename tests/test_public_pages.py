"""Public pages reached from e-mails: one-click unsubscribe, preferences, double opt-in, archive.
No account, no cookie; GET never changes anything; bad or old links get a clear page."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm.config import Settings
from crm.db.models.audit import AuditEntry
from crm.db.models.lists import Subscription, SubscriptionStatus
from crm.db.models.person import Person
from crm.db.models.publication import Publication, PublicationKind
from crm.db.models.suppression import Suppression, SuppressionReason
from crm.domain.lists.services import suppression_hash
from crm.lib import links
from crm.lib.tokens import make_token
from tests.mailing_helpers import add, links_in, make_list, make_person, subscribe, subscriptions_of
from tests.peers import connect_from

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def path_of(url: str) -> str:
    return urlsplit(url).path


async def suppressed(engine: AsyncEngine, email: str) -> Suppression | None:
    async with AsyncSession(engine) as session:
        return await session.scalar(select(Suppression).where(Suppression.email_hash == suppression_hash(email)))


# ---- one-click unsubscribe -----------------------------------------------------------------


async def test_one_click_post_unsubscribes_without_cookie_or_redirect(
    client: Any, engine: AsyncEngine, settings: Settings
) -> None:
    person = await make_person(engine, "elu@mairie-ajaccio.fr")
    news = await make_list(engine, "lettre", "Lettre d’information")
    events = await make_list(engine, "evenements", "Invitations")
    await subscribe(engine, person, news)
    await subscribe(engine, person, events)
    campaign_id = uuid4()
    url = links.unsubscribe_url(settings, person, news, campaign_id)
    assert url.startswith(settings.public_url + "/u/")

    response = await client.post(path_of(url), data=ONE_CLICK, follow_redirects=False)

    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert "Vous êtes désinscrit" in response.text
    assert (
        "Lettre d’information" in response.text
        or "Lettre d&#39;information" in response.text
        or "Lettre" in response.text
    )
    subs = await subscriptions_of(engine, person)
    assert subs[news].status == SubscriptionStatus.UNSUBSCRIBED
    assert subs[news].unsubscribed_at is not None
    assert str(campaign_id) in (subs[news].unsubscribe_reason or "")
    # Only the list of the link.
    assert subs[events].status == SubscriptionStatus.SUBSCRIBED
    async with AsyncSession(engine) as session:
        actors = (
            await session.scalars(
                select(AuditEntry.actor_type).where(
                    AuditEntry.entity_type == "subscription",
                    AuditEntry.entity_id == subs[news].id,
                    AuditEntry.action == "update",
                )
            )
        ).all()
    assert actors == ["contact"]


async def test_one_click_is_idempotent(client: Any, engine: AsyncEngine, settings: Settings) -> None:
    person = await make_person(engine, "dgs@agglo.fr")
    news = await make_list(engine, "lettre")
    await subscribe(engine, person, news)
    url = path_of(links.unsubscribe_url(settings, person, news, None))
    assert (await client.post(url, data=ONE_CLICK)).status_code == 200
    first = (await subscriptions_of(engine, person))[news].unsubscribed_at
    assert (await client.post(url, data=ONE_CLICK)).status_code == 200
    assert (await subscriptions_of(engine, person))[news].unsubscribed_at == first


async def test_unsubscribe_get_shows_a_button_and_changes_nothing(
    client: Any, engine: AsyncEngine, settings: Settings
) -> None:
    person = await make_person(engine, "maire@saint-etienne.fr")
    news = await make_list(engine, "lettre", "Lettre mensuelle")
    await subscribe(engine, person, news)
    url = path_of(links.unsubscribe_url(settings, person, news, None))

    response = await client.get(url)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'method="post"' in response.text
    assert f'action="{url}"' in response.text
    assert 'name="List-Unsubscribe" value="One-Click"' in response.text
    assert "Lettre mensuelle" in response.text
    assert response.headers["referrer-policy"] == "no-referrer"
    assert (await subscriptions_of(engine, person))[news].status == SubscriptionStatus.SUBSCRIBED


async def test_a_staff_session_is_not_needed_and_a_visitor_without_one_is_not_asked_for_csrf(
    client: Any, engine: AsyncEngine, settings: Settings
) -> None:
    person = await make_person(engine, "contact@region-corse.fr")
    news = await make_list(engine, "lettre")
    await subscribe(engine, person, news)
    client.cookies.clear()
    response = await client.post(path_of(links.unsubscribe_url(settings, person, news, None)), data=ONE_CLICK)
    assert response.status_code == 200


async def test_tampered_unsubscribe_link_is_refused_with_a_clear_page(
    client: Any, engine: AsyncEngine, settings: Settings
) -> None:
    person = await make_person(engine, "elu@ville.fr")
    news = await make_list(engine, "lettre")
    await subscribe(engine, person, news)
    url = path_of(links.unsubscribe_url(settings, person, news, None))
    other_person = await make_person(engine, "victime@ville.fr")
    await subscribe(engine, other_person, news)
    # Swap the payload for someone else's, keep the signature.
    forged_body = path_of(links.unsubscribe_url(settings, other_person, news, None)).split("/")[-1].split(".")[0]
    forged = "/u/" + forged_body + "." + url.split(".")[-1]

    for bad in (url[:-3] + "abc", forged, "/u/nonsense"):
        response = await client.post(bad, data=ONE_CLICK)
        assert response.status_code == 400, bad
        assert "pas valide" in response.text
        assert response.headers["content-type"].startswith("text/html")
        assert (await client.get(bad)).status_code == 400

    assert (await subscriptions_of(engine, person))[news].status == SubscriptionStatus.SUBSCRIBED
    assert (await subscriptions_of(engine, other_person))[news].status == SubscriptionStatus.SUBSCRIBED


async def test_a_token_made_for_another_purpose_is_refused(
    client: Any, engine: AsyncEngine, settings: Settings
) -> None:
    person = await make_person(engine, "elu@ville.fr")
    news = await make_list(engine, "lettre")
    await subscribe(engine, person, news)
    preferences_token = links.preferences_url(settings, person).rsplit("/", 1)[1]
    response = await client.post(f"/u/{preferences_token}", data=ONE_CLICK)
    assert response.status_code == 400
    assert (await subscriptions_of(engine, person))[news].status == SubscriptionStatus.SUBSCRIBED


async def test_expired_unsubscribe_link_gets_410_with_an_explanation(
    client: Any, engine: AsyncEngine, settings: Settings
) -> None:
    person = await make_person(engine, "elu@ville.fr")
    news = await make_list(engine, "lettre")
    await subscribe(engine, person, news)
    old = make_token(
        settings.security.secret_key.get_secret_value(),
        links.UNSUBSCRIBE,
        {"person_id": str(person), "list_id": str(news), "campaign_id": None},
        issued_at=time.time() - links.UNSUBSCRIBE_MAX_AGE - 60,
    )
    response = await client.post(f"/u/{old}", data=ONE_CLICK)
    assert response.status_code == 410
    assert "expiré" in response.text
    assert (await subscriptions_of(engine, person))[news].status == SubscriptionStatus.SUBSCRIBED


async def test_a_link_without_a_list_leaves_everything_and_suppresses(
    client: Any, engine: AsyncEngine, settings: Settings
) -> None:
    person = await make_person(engine, "Élu@Ville.fr")
    news = await make_list(engine, "lettre")
    events = await make_list(engine, "evenements")
    await subscribe(engine, person, news)
    await subscribe(engine, person, events)
    response = await client.post(path_of(links.unsubscribe_url(settings, person, None, None)), data=ONE_CLICK)
    assert response.status_code == 200
    subs = await subscriptions_of(engine, person)
    assert {s.status for s in subs.values()} == {SubscriptionStatus.UNSUBSCRIBED}
    entry = await suppressed(engine, "élu@ville.fr")
    assert entry is not None
    assert entry.reason == SuppressionReason.UNSUBSCRIBED_ALL


async def test_unsubscribing_from_a_list_never_subscribed_records_the_refusal(
    client: Any, engine: AsyncEngine, settings: Settings
) -> None:
    # A campaign to a segment reaches people with no subscription row: their refusal is kept.
    person = await make_person(engine, "dsi@metropole.fr")
    news = await make_list(engine, "lettre")
    assert (
        await client.post(path_of(links.unsubscribe_url(settings, person, news, None)), data=ONE_CLICK)
    ).status_code == 200
    subs = await subscriptions_of(engine, person)
    assert subs[news].status == SubscriptionStatus.UNSUBSCRIBED


# ---- preferences ---------------------------------------------------------------------------


async def test_preference_page_lists_public_lists_with_status(
    client: Any, engine: AsyncEngine, settings: Settings
) -> None:
    person = await make_person(engine, "elu@ville.fr")
    news = await make_list(engine, "lettre", "Lettre d’information")
    await make_list(engine, "evenements", "Invitations aux rencontres")
    await make_list(engine, "interne", "Liste interne du bureau", is_public=False)
    await subscribe(engine, person, news)

    response = await client.get(path_of(links.preferences_url(settings, person)))

    assert response.status_code == 200
    body = response.text
    assert "elu@ville.fr" in body
    assert "Invitations aux rencontres" in body
    assert "Liste interne du bureau" not in body
    assert 'value="lettre" checked' in body
    assert 'value="evenements">' in body
    assert "abonné·e" in body
    assert "non abonné·e" in body


async def test_preferences_post_sets_the_lists(client: Any, engine: AsyncEngine, settings: Settings) -> None:
    person = await make_person(engine, "elu@ville.fr")
    news = await make_list(engine, "lettre")
    events = await make_list(engine, "evenements")
    await subscribe(engine, person, news)
    url = path_of(links.preferences_url(settings, person))

    response = await client.post(url, data={"lists": ["evenements"], "action": "save"})

    assert response.status_code == 200
    assert "enregistrés" in response.text
    subs = await subscriptions_of(engine, person)
    assert subs[news].status == SubscriptionStatus.UNSUBSCRIBED
    assert subs[events].status == SubscriptionStatus.SUBSCRIBED
    assert subs[events].source == "preference page"
    assert subs[events].consent_text
    assert subs[events].consent_version
    assert subs[events].consented_at


async def test_leave_everything_unsubscribes_all_and_suppresses(
    client: Any, engine: AsyncEngine, settings: Settings
) -> None:
    person = await make_person(engine, "elu@ville.fr")
    news = await make_list(engine, "lettre")
    internal = await make_list(engine, "interne", is_public=False)
    await subscribe(engine, person, news)
    await subscribe(engine, person, internal)
    url = path_of(links.preferences_url(settings, person))

    response = await client.post(url, data={"lists": ["lettre"], "action": "leave_all"})

    assert response.status_code == 200
    subs = await subscriptions_of(engine, person)
    assert subs[news].status == SubscriptionStatus.UNSUBSCRIBED
    assert subs[internal].status == SubscriptionStatus.UNSUBSCRIBED
    entry = await suppressed(engine, "elu@ville.fr")
    assert entry is not None
    assert entry.reason == SuppressionReason.UNSUBSCRIBED_ALL
    # Choosing a list again on one's own page lifts one's own "leave everything".
    await client.post(url, data={"lists": ["lettre"], "action": "save"})
    assert (await subscriptions_of(engine, person))[news].status == SubscriptionStatus.SUBSCRIBED
    assert await suppressed(engine, "elu@ville.fr") is None


async def test_preference_get_changes_nothing_and_bad_links_are_refused(
    client: Any, engine: AsyncEngine, settings: Settings
) -> None:
    person = await make_person(engine, "elu@ville.fr")
    news = await make_list(engine, "lettre")
    await subscribe(engine, person, news)
    url = path_of(links.preferences_url(settings, person))
    assert (await client.get(url)).status_code == 200
    assert (await subscriptions_of(engine, person))[news].status == SubscriptionStatus.SUBSCRIBED
    assert (await client.post(url + "x", data={"action": "leave_all"})).status_code == 400
    assert (await subscriptions_of(engine, person))[news].status == SubscriptionStatus.SUBSCRIBED
    assert await suppressed(engine, "elu@ville.fr") is None


# ---- double opt-in -------------------------------------------------------------------------


async def count(engine: AsyncEngine, model: Any) -> int:
    async with AsyncSession(engine) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_subscribe_form_shows_public_lists_and_consent(client: Any, engine: AsyncEngine) -> None:
    await make_list(engine, "lettre", "Lettre d’information")
    await make_list(engine, "interne", "Bureau seulement", is_public=False)
    response = await client.get("/subscribe")
    assert response.status_code == 200
    assert "Lettre d’information" in response.text
    assert "Bureau seulement" not in response.text
    assert 'name="consent"' in response.text
    assert 'name="consent_version"' in response.text


async def test_double_opt_in_from_the_link_in_the_email(
    client: Any, engine: AsyncEngine, smtp: Any, run_worker: Any
) -> None:
    news = await make_list(engine, "lettre", "Lettre d’information")
    events = await make_list(engine, "evenements", "Invitations")
    form = {
        "email": "  Chloe.Martin@Ville-Bastia.fr ",
        "first_name": "Chloé",
        "last_name": "Martin",
        "lists": ["lettre", "evenements"],
        "consent": "yes",
        "consent_version": "2026-01",
    }

    response = await client.post("/subscribe", data=form)

    assert response.status_code == 200
    assert "boîte de réception" in response.text
    async with AsyncSession(engine) as session:
        person = await session.scalar(select(Person).where(Person.email == "chloe.martin@ville-bastia.fr"))
    assert person is not None
    assert person.first_name == "Chloé"
    subs = await subscriptions_of(engine, person.id)
    assert {s.status for s in subs.values()} == {SubscriptionStatus.PENDING}
    for sub in subs.values():
        assert sub.legal_basis.value == "consent"
        assert sub.source == "public form"
        assert sub.consent_version == "2026-01"
        assert sub.consent_text
        assert "désinscrire" in sub.consent_text
        assert sub.consented_at is not None
        assert sub.confirmed_at is None

    await run_worker()
    received = smtp.to("chloe.martin@ville-bastia.fr")
    assert len(received) == 1
    message = received[0]
    confirm_links = [u for u in links_in(message.text) if "/confirm/" in u]
    assert confirm_links
    assert all(u in message.html for u in confirm_links)
    link = path_of(confirm_links[0])

    page = await client.get(link)
    assert page.status_code == 200
    assert 'method="post"' in page.text
    assert "Invitations" in page.text
    assert {s.status for s in (await subscriptions_of(engine, person.id)).values()} == {SubscriptionStatus.PENDING}

    done = await client.post(link)
    assert done.status_code == 200
    assert "confirmée" in done.text
    subs = await subscriptions_of(engine, person.id)
    assert {s.status for s in subs.values()} == {SubscriptionStatus.SUBSCRIBED}
    assert all(s.confirmed_at is not None for s in subs.values())
    assert set(subs) == {news, events}


async def test_subscribe_by_json_and_missing_consent_named(client: Any, engine: AsyncEngine) -> None:
    await make_list(engine, "lettre")
    bad = await client.post("/subscribe", json={"email": "x@ville.fr", "lists": ["lettre"]})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in bad.json()["errors"]] == ["consent"]
    bad = await client.post("/subscribe", json={"email": "pas une adresse", "lists": ["inconnue"], "consent": True})
    assert {e["field"] for e in bad.json()["errors"]} == {"email", "lists"}
    form = await client.post("/subscribe", data={"email": "x@ville.fr", "lists": "lettre"})
    assert form.status_code == 422
    assert "consentement" in form.text
    assert 'value="x@ville.fr"' in form.text  # what was typed is kept
    assert await count(engine, Person) == 0
    ok = await client.post("/subscribe", json={"email": "x@ville.fr", "lists": ["lettre"], "consent": True})
    assert ok.status_code == 200
    assert await count(engine, Subscription) == 1


async def test_a_suppressed_address_gets_the_same_answer_and_nothing_is_sent(
    client: Any, engine: AsyncEngine, smtp: Any, run_worker: Any
) -> None:
    from crm.db.models.suppression import Suppression

    await make_list(engine, "lettre")
    await add(engine, Suppression(email_hash=suppression_hash("bloque@ville.fr"), reason=SuppressionReason.COMPLAINT))
    form = {"lists": ["lettre"], "consent": "yes"}
    normal = await client.post("/subscribe", data=form | {"email": "libre@ville.fr"})
    blocked = await client.post("/subscribe", data=form | {"email": "bloque@ville.fr"})
    assert normal.status_code == blocked.status_code == 200
    assert normal.text == blocked.text
    await run_worker()
    assert smtp.to("libre@ville.fr")
    assert not smtp.to("bloque@ville.fr")
    assert await count(engine, Subscription) == 1


async def test_a_confirmation_to_a_mailbox_that_does_not_exist_suppresses_the_address(
    client: Any, engine: AsyncEngine, smtp: Any, run_worker: Any
) -> None:
    """The platform's own mail reads a 5.1.x refusal as a campaign does: the address goes on the
    suppression list, so nothing is written to it again."""
    await make_list(engine, "lettre")
    smtp.refuse_recipients["personne@ville.fr"] = "550 5.1.1 User unknown"
    form = {"lists": ["lettre"], "consent": "yes"}
    assert (await client.post("/subscribe", data=form | {"email": "personne@ville.fr"})).status_code == 200
    assert (await client.post("/subscribe", data=form | {"email": "refus@ville.fr"})).status_code == 200
    smtp.refuse_recipients["refus@ville.fr"] = "550 5.7.1 Policy refusal"  # refused, but it exists
    await run_worker()
    entry = await suppressed(engine, "personne@ville.fr")
    assert entry is not None
    assert entry.reason == SuppressionReason.HARD_BOUNCE
    assert await suppressed(engine, "refus@ville.fr") is None


async def test_a_known_person_keeps_their_name_and_an_existing_subscriber_gets_no_mail(
    client: Any, engine: AsyncEngine, smtp: Any, run_worker: Any
) -> None:
    person = await make_person(engine, "maire@ville.fr", "Jean-Paul", "Agostini")
    news = await make_list(engine, "lettre")
    await subscribe(engine, person, news)
    response = await client.post(
        "/subscribe",
        data={"email": "maire@ville.fr", "first_name": "Usurpateur", "lists": ["lettre"], "consent": "yes"},
    )
    assert response.status_code == 200
    await run_worker()
    assert not smtp.to("maire@ville.fr")
    async with AsyncSession(engine) as session:
        assert (await session.get(Person, person)).first_name == "Jean-Paul"  # type: ignore[union-attr]
    assert (await subscriptions_of(engine, person))[news].status == SubscriptionStatus.SUBSCRIBED


def test_one_mailbox_whatever_its_spelling() -> None:
    from crm.lib.mailbox import mailbox_key

    gmail = mailbox_key("chloemartin@gmail.com")
    for variant in ("Chloe.Martin@gmail.com", "c.h.l.o.e.martin+lettre@GoogleMail.com", "CHLOEMARTIN+x+y@gmail.com"):
        assert mailbox_key(variant) == gmail
    # +tags are folded everywhere; dots only where the provider ignores them.
    assert mailbox_key("jean.dupont+asso@ville-ajaccio.fr") == mailbox_key("Jean.Dupont@ville-ajaccio.fr")
    assert mailbox_key("jeandupont@ville-ajaccio.fr") != mailbox_key("jean.dupont@ville-ajaccio.fr")
    assert mailbox_key("jean@ville-ajaccio.fr") != mailbox_key("jean@ville-bastia.fr")


async def test_variants_of_one_mailbox_get_a_few_confirmations_a_day_and_the_same_answer(
    client: Any, engine: AsyncEngine, smtp: Any, run_worker: Any
) -> None:
    """Mail bombing a third party through the form: every spelling of one mailbox, from made-up
    forwarded addresses, still earns only a few confirmation e-mails a day."""
    from crm.domain.public.controllers import SUBSCRIBE_PER_MAILBOX

    await make_list(engine, "lettre")
    variants = [
        "Chloe.Martin@gmail.com",
        "chloemartin@googlemail.com",
        "c.h.l.o.e.martin+1@gmail.com",
        "CHLOEMARTIN+2@GMAIL.COM",
        "chloe.martin+3@googlemail.com",
        "chloemartin+4@gmail.com",
        "chl.oemartin+5@gmail.com",
    ]
    answers = []
    for i, email in enumerate(variants):
        response = await client.post(
            "/subscribe",
            data={"email": email, "lists": ["lettre"], "consent": "yes"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        )
        answers.append((response.status_code, response.text))
    # Nothing tells the sender that the mailbox was held back.
    assert set(answers) == {answers[0]}
    assert answers[0][0] == 200
    await run_worker()
    assert len(smtp.messages) == SUBSCRIBE_PER_MAILBOX[0] < len(variants)
    # Another mailbox is not held back by this one.
    smtp.clear()
    other = await client.post("/subscribe", data={"email": "autre@ville.fr", "lists": ["lettre"], "consent": "yes"})
    assert other.status_code == 200
    await run_worker()
    assert smtp.to("autre@ville.fr")


async def test_one_client_cannot_subscribe_many_mailboxes_whatever_its_headers_say(
    client: Any, engine: AsyncEngine, monkeypatch: Any
) -> None:
    from crm.domain.public import controllers

    monkeypatch.setattr(controllers, "SUBSCRIBE_PER_CLIENT", (3, 3600))
    await make_list(engine, "lettre")
    connect_from(client, "203.0.113.7")
    statuses = []
    for i in range(4):
        response = await client.post(
            "/subscribe",
            data={"email": f"victime{i}@ville.fr", "lists": ["lettre"], "consent": "yes"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        )
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 429]
    assert "victime3" not in response.text
    assert int(response.headers["retry-after"]) > 0
    connect_from(client, "203.0.113.8")
    ok = await client.post("/subscribe", data={"email": "victime3@ville.fr", "lists": ["lettre"], "consent": "yes"})
    assert ok.status_code == 200


async def test_confirmation_links_tampered_or_expired(client: Any, engine: AsyncEngine, settings: Settings) -> None:
    person = await make_person(engine, "elu@ville.fr")
    news = await make_list(engine, "lettre")
    sub = await subscribe(engine, person, news, SubscriptionStatus.PENDING)
    good = path_of(links.confirm_url(settings, person, [sub]))
    assert (await client.post(good[:-2] + "zz")).status_code == 400
    old = make_token(
        settings.security.secret_key.get_secret_value(),
        links.CONFIRM,
        {"person_id": str(person), "subscription_ids": [str(sub)]},
        issued_at=time.time() - links.CONFIRM_MAX_AGE - 1,
    )
    expired = await client.post(f"/confirm/{old}")
    assert expired.status_code == 410
    assert "/subscribe" not in expired.text or "formulaire" in expired.text
    assert (await subscriptions_of(engine, person))[news].status == SubscriptionStatus.PENDING


# ---- archive -------------------------------------------------------------------------------


async def test_archive_lists_public_publications_only(client: Any, engine: AsyncEngine) -> None:
    await add(
        engine,
        Publication(
            title="Baromètre du numérique 2025",
            kind=PublicationKind.SURVEY_RESULTS,
            published_on=date(2025, 11, 3),
            url="https://example.org/barometre",
            summary="Les résultats de l’enquête auprès des communes.",
            is_public=True,
        ),
        Publication(title="Note interne du bureau", kind=PublicationKind.OTHER, published_on=date(2025, 1, 2)),
    )
    response = await client.get("/archive")
    assert response.status_code == 200
    assert "Baromètre du numérique 2025" in response.text
    assert "3 novembre 2025" in response.text
    assert 'href="https://example.org/barometre"' in response.text
    assert "Note interne" not in response.text
    assert '<html lang="fr">' in response.text


# ---- which campaign's link a person left through -----------------------------------------


async def make_campaign(engine: AsyncEngine, list_id: Any) -> Any:
    from crm.db.models.campaign import Campaign, CampaignKind, CampaignStatus

    (campaign_id,) = await add(
        engine,
        Campaign(
            name="Lettre de décembre",
            kind=CampaignKind.NEWSLETTER,
            status=CampaignStatus.FINISHED,
            subject="La lettre – décembre",
            from_name="L’association",
            from_email="lettre@example.org",
            list_id=list_id,
            template="newsletter",
            content={"blocks": []},
        ),
    )
    return campaign_id


async def test_one_click_from_a_campaign_records_the_campaign(
    client: Any, engine: AsyncEngine, settings: Settings
) -> None:
    person = await make_person(engine, "elue@mairie-cayenne.fr")
    other = await make_person(engine, "dgs@mairie-cayenne.fr")
    news = await make_list(engine, "lettre")
    await subscribe(engine, person, news)
    await subscribe(engine, other, news)
    campaign = await make_campaign(engine, news)

    response = await client.post(path_of(links.unsubscribe_url(settings, person, news, campaign)), data=ONE_CLICK)
    # A campaign deleted since (or never known) is no reason to refuse the person's way out.
    gone = await client.post(path_of(links.unsubscribe_url(settings, other, news, uuid4())), data=ONE_CLICK)

    assert response.status_code == gone.status_code == 200
    left = (await subscriptions_of(engine, person))[news]
    assert left.status == SubscriptionStatus.UNSUBSCRIBED
    assert left.unsubscribed_via_campaign_id == campaign
    other_left = (await subscriptions_of(engine, other))[news]
    assert other_left.status == SubscriptionStatus.UNSUBSCRIBED
    assert other_left.unsubscribed_via_campaign_id is None
    # The page's "manage my subscriptions" link still knows where the person came from.
    preferences = [u for u in links_in(response.text) if "/p/" in u]
    assert preferences
    again = await client.post(path_of(preferences[0]), data={"lists": ["lettre"]})
    assert again.status_code == 200
    back = (await subscriptions_of(engine, person))[news]
    assert back.status == SubscriptionStatus.SUBSCRIBED
    assert back.unsubscribed_via_campaign_id is None  # back on the list: no longer a departure


async def test_preference_page_from_a_campaign_records_who_left_through_it(
    client: Any, engine: AsyncEngine, settings: Settings
) -> None:
    person = await make_person(engine, "president@agglo-bastia.fr")
    leaver = await make_person(engine, "vp@agglo-bastia.fr")
    news = await make_list(engine, "lettre")
    events = await make_list(engine, "evenements")
    for someone in (person, leaver):
        await subscribe(engine, someone, news)
        await subscribe(engine, someone, events)
    campaign = await make_campaign(engine, news)

    kept = await client.post(path_of(links.preferences_url(settings, person, campaign)), data={"lists": ["evenements"]})
    everything = await client.post(
        path_of(links.preferences_url(settings, leaver, campaign)), data={"action": "leave_all"}
    )
    unrelated = await client.post(path_of(links.preferences_url(settings, person)), data={"lists": []})

    assert kept.status_code == everything.status_code == unrelated.status_code == 200
    subs = await subscriptions_of(engine, person)
    assert subs[news].unsubscribed_via_campaign_id == campaign
    # Left later from a link that came from no campaign: not this campaign's doing.
    assert subs[events].status == SubscriptionStatus.UNSUBSCRIBED
    assert subs[events].unsubscribed_via_campaign_id is None
    leaver_subs = await subscriptions_of(engine, leaver)
    assert {s.status for s in leaver_subs.values()} == {SubscriptionStatus.UNSUBSCRIBED}
    assert {s.unsubscribed_via_campaign_id for s in leaver_subs.values()} == {campaign}


async def test_the_home_page_lists_the_public_pages_until_the_admin_is_built(
    client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from crm import adminui

    monkeypatch.setattr(adminui, "DIST", tmp_path / "dist")
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for path in ("/archive", "/subscribe", "/schema", "/health/ready"):
        assert f'href="{path}"' in response.text
    assert "Publications et archives" in response.text
    admin = await client.get("/admin")
    assert admin.status_code == 503
    assert "crm build-admin" in admin.text


async def test_the_home_page_leads_to_the_admin_app_once_it_is_built(
    client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from crm import adminui

    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text('<div id="root"></div>')
    monkeypatch.setattr(adminui, "DIST", tmp_path / "dist")
    response = await client.get("/", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/admin"
    admin = await client.get("/admin")
    assert admin.status_code == 200
    assert '<div id="root">' in admin.text


async def test_the_archive_is_rendered_once_for_many_visitors(client: Any, engine: AsyncEngine) -> None:
    """Each API process keeps the rendered archive for half a minute (under load, the page would
    otherwise be read and rendered for every visitor): what is published meanwhile shows after."""
    assert "Baromètre" not in (await client.get("/archive")).text
    await add(
        engine,
        Publication(
            title="Baromètre du numérique 2025",
            kind=PublicationKind.SURVEY_RESULTS,
            published_on=date(2025, 11, 3),
            url="https://example.org/barometre",
            is_public=True,
        ),
    )
    again = await client.get("/archive")
    assert again.status_code == 200
    assert "Baromètre" not in again.text
