"""Public pages reached from e-mails and the website: plain server-rendered HTML in French, no
account, no cookie, no CSRF token (the signed link is the proof). GET never changes anything."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.lists import MailingList
from crm.db.models.person import Person
from crm.db.models.publication import PublicationKind
from crm.domain.association.services import AssociationSettingsService
from crm.domain.campaigns.rendering import PREVIEW_LINK, archive_view
from crm.domain.lists.services import SubscriptionService
from crm.domain.public import services as public
from crm.domain.public.layout import (
    PUBLIC_PAGE_HEADERS,
    LinkError,
    PublicPages,
    SignedLink,
    as_contact,
    kept_page,
    linked_uuid,
    message,
    page,
    read_form,
    settings_of,
    signed_link,
)
from crm.domain.system import mail as system_mail
from crm.lib import links
from crm.lib.client_address import rate_limit_bucket, request_address
from crm.lib.mailbox import mailbox_key
from crm.lib.problems import ProblemError, field_error
from crm.lib.ratelimit import Window, blocked_for, hit, take
from crm.lib.schemas import normalise_email, refuse_control_characters

# An archived campaign is e-mail HTML: inline styles and remote images, and no script at all.
ARCHIVED_CAMPAIGN_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline' https:; img-src https: http: data:; font-src https: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

PUBLICATION_KINDS = {
    PublicationKind.REPORT.value: "rapport",
    PublicationKind.SURVEY_RESULTS.value: "résultats d’enquête",
    PublicationKind.GUIDE.value: "guide",
    PublicationKind.MOTION.value: "motion",
    PublicationKind.OTHER.value: "publication",
}

# `/` sends visitors to the admin app once it is built; until then it lists the public pages.
ADMIN_PATH = "/admin"
HOME_ENTRIES = (
    {
        "url": "/archive",
        "title": "Publications et archives",
        "text": "Nos rapports, enquêtes et lettres d’information déjà parues.",
    },
    {
        "url": "/subscribe",
        "title": "S’inscrire à nos lettres",
        "text": "Choisissez les listes que vous voulez recevoir.",
    },
    {
        "url": "/schema",
        "title": "Documentation de l’API",
        "text": "L’API JSON du CRM, pour l’équipe et les partenaires.",
    },
    {"url": "/health/ready", "title": "État du service", "text": "Répond « ok » quand la base et Redis répondent."},
)

# The public form must not mail-bomb a third party: a mailbox (however spelt) gets a few
# confirmation e-mails a day, silently (the answer never says an address was held back); a client
# address may send this many forms an hour and a day (429: that tells nothing about any mailbox).
SUBSCRIBE_PER_MAILBOX = (3, 86400)
SUBSCRIBE_PER_CLIENT = (30, 3600)
SUBSCRIBE_PER_CLIENT_DAY = (200, 86400)


def admin_served() -> bool:
    from crm import adminui

    return adminui.is_built()


def _preview_link_page(request: Request[Any, Any, Any]) -> Response[str]:
    return message(
        request,
        "Lien d’aperçu",
        "Ceci est un aperçu : ce lien ne fait rien.",
        "Dans le message envoyé, chaque destinataire trouve ici son propre lien, pour se désinscrire, gérer "
        "ses abonnements ou répondre à une invitation.",
    )


def _text(value: Any, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


UNSUBSCRIBE_LINK = {"link": signed_link(links.UNSUBSCRIBE, links.UNSUBSCRIBE_MAX_AGE)}
PREFERENCES_LINK = {"link": signed_link(links.PREFERENCES, links.PREFERENCES_MAX_AGE)}
CONFIRM_LINK = {
    "link": signed_link(
        links.CONFIRM,
        links.CONFIRM_MAX_AGE,
        after="Inscrivez-vous à nouveau depuis le formulaire : un nouveau lien vous sera envoyé.",
    )
}


class PublicController(PublicPages):
    path = "/"

    @get(
        "/",
        operation_id="showHome",
        summary="Home page",
        description="Redirects to the admin app when one is served; lists the public pages otherwise.",
    )
    async def home(self, request: Request[Any, Any, Any]) -> Response[str] | Redirect:
        if admin_served():
            return Redirect(ADMIN_PATH, status_code=302)
        return page(
            request,
            "home.html",
            headers={**PUBLIC_PAGE_HEADERS, "Cache-Control": "public, max-age=300"},
            title="Bienvenue",
            entries=HOME_ENTRIES,
        )

    # ---- one-click unsubscribe (RFC 8058) -------------------------------------------------

    @get(
        "/u/{token:str}",
        operation_id="showUnsubscribePage",
        summary="Unsubscribe page",
        description="Shows what the link unsubscribes from, with a button that POSTs; changes nothing.",
        dependencies=UNSUBSCRIBE_LINK,
    )
    async def show_unsubscribe(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
    ) -> Response[str]:
        payload = link.payload
        person_id, list_id = link.uuid("person_id"), link.optional_uuid("list_id")
        mailing_list = await db_session.get(MailingList, list_id) if list_id else None
        return page(
            request,
            "unsubscribe.html",
            title="Se désinscrire",
            list_name=mailing_list.name if mailing_list else None,
            email=None,
            action=f"/u/{link.token}",
            preferences_url=links.preferences_url(settings_of(request), person_id, payload.get("campaign_id")),
        )

    @post(
        "/u/{token:str}",
        operation_id="unsubscribeOneClick",
        summary="Unsubscribe in one click",
        description="RFC 8058 one-click unsubscribe: a POST with `List-Unsubscribe=One-Click` (form body) "
        "takes the person off the list of the link, without cookie, login or redirect.",
        status_code=200,
        dependencies=UNSUBSCRIBE_LINK,
    )
    async def unsubscribe(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
    ) -> Response[str]:
        payload = link.payload
        person_id, list_id = link.uuid("person_id"), link.optional_uuid("list_id")
        campaign = payload.get("campaign_id")
        reason = f"one-click link (campaign {campaign})" if campaign else "one-click link"
        campaign_id = await public.campaign_of_link(db_session, campaign)
        list_name = None
        with as_contact(request, person_id):
            if list_id is not None:
                subscription = await SubscriptionService(session=db_session).unsubscribe_from(
                    person_id, list_id, reason, campaign_id
                )
                mailing_list = await db_session.get(MailingList, list_id) if subscription else None
                list_name = mailing_list.name if mailing_list else None
            else:
                person = await db_session.get(Person, person_id)
                if person is not None:
                    await public.leave_everything(db_session, person, campaign_id)
            await db_session.commit()
        what = f"de la liste « {list_name} »" if list_name else "de nos envois"
        return message(
            request,
            "Vous êtes désinscrit·e",
            f"C’est fait : vous ne recevrez plus de messages {what}.",
            "Vous pouvez changer d’avis à tout moment depuis la page de vos abonnements.",
            link={
                "url": links.preferences_url(settings_of(request), person_id, campaign),
                "text": "Gérer mes abonnements",
            },
        )

    # ---- preferences ----------------------------------------------------------------------

    async def _preferences_person(self, db_session: AsyncSession, link: SignedLink) -> tuple[Person, Any]:
        """The person of the link, and the campaign whose message carried it (if any)."""
        person = await db_session.get(Person, link.uuid("person_id"))
        if person is None or not person.email:
            raise link.gone()  # the person was erased since: the link leads nowhere now
        return person, link.payload.get("campaign_id")

    async def _preferences_page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        token: str,
        person: Person,
        saved: str | None,
    ) -> Response[str]:
        rows = await public.preference_rows(db_session, person.id)
        return page(
            request,
            "preferences.html",
            title="Mes abonnements",
            email=person.email,
            rows=rows,
            action=f"/p/{token}",
            saved=saved,
        )

    @get(
        "/p/{token:str}",
        operation_id="showPreferences",
        summary="Preference page",
        description="The public lists with the person's status on each; changes nothing.",
        dependencies=PREFERENCES_LINK,
    )
    async def show_preferences(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
    ) -> Response[str]:
        person, _campaign = await self._preferences_person(db_session, link)
        return await self._preferences_page(request, db_session, link.token, person, None)

    @post(
        "/p/{token:str}",
        operation_id="savePreferences",
        summary="Save preferences",
        description="Sets the lists the person receives (`lists` = slugs checked); `action=leave_all` "
        "unsubscribes from everything and suppresses the address.",
        status_code=200,
        dependencies=PREFERENCES_LINK,
    )
    async def save_preferences(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
    ) -> Response[str]:
        person, campaign = await self._preferences_person(db_session, link)
        form = await read_form(request)
        wanted = {s for s in form.get("lists") or [] if isinstance(s, str)}
        campaign_id = await public.campaign_of_link(db_session, campaign)
        with as_contact(request, person.id):
            if form.get("action") == "leave_all":
                await public.leave_everything(db_session, person, campaign_id)
                saved = "C’est fait : vous ne recevrez plus rien de notre part à cette adresse."
            else:
                await public.set_preferences(db_session, person, wanted, campaign_id)
                saved = "Vos choix sont enregistrés."
            await db_session.commit()
        return await self._preferences_page(request, db_session, link.token, person, saved)

    # ---- public subscription, double opt-in ----------------------------------------------

    @get(
        "/subscribe",
        operation_id="showSubscribeForm",
        summary="Subscription form",
        description="The public lists, with the consent text and its version.",
    )
    async def show_subscribe(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Response[str]:
        return await self._subscribe_form(request, db_session, {}, [], 200)

    async def _subscribe_form(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        values: dict[str, Any],
        errors: list[str],
        status: int,
    ) -> Response[str]:
        wanted = request.query_params.getall("list") if "list" in request.query_params else []
        return page(
            request,
            "subscribe.html",
            status,
            headers=PUBLIC_PAGE_HEADERS,
            title="S’inscrire à nos lettres",
            lists=await public.public_lists(db_session),
            values={"email": "", "first_name": "", "last_name": "", "lists": wanted} | values,
            errors=errors,
            action="/subscribe",
            consent_text=public.CONSENT_TEXTS[public.CONSENT_VERSION],
            consent_version=public.CONSENT_VERSION,
        )

    @post(
        "/subscribe",
        operation_id="subscribePublic",
        summary="Subscribe (double opt-in)",
        description="Form or JSON: email, first_name, last_name, lists (slugs), consent. Records pending "
        "subscriptions with the consent shown and e-mails a confirmation link. The answer is the same "
        "whatever is already known about the address.",
        status_code=200,
    )
    async def subscribe(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        wants_json = request.headers.get("content-type", "").startswith("application/json")
        form = await read_form(request)
        values: dict[str, Any] = {
            "email": _text(form.get("email"), 320),
            "first_name": _text(form.get("first_name"), 100),
            "last_name": _text(form.get("last_name"), 100),
            "lists": [s for s in (form.get("lists") or []) if isinstance(s, str)],
        }
        consent = form.get("consent")
        errors: list[tuple[str, str]] = []
        try:
            email = normalise_email(values["email"])
        except ValueError:
            email = ""
            errors.append(("email", "Indiquez une adresse e-mail valide."))
        # Names reach the header of the confirmation and of every message: one line each.
        for name, label in (("first_name", "Le prénom"), ("last_name", "Le nom")):
            try:
                refuse_control_characters(values[name])
            except ValueError:
                errors.append((name, f"{label} doit tenir sur une ligne, sans retour à la ligne."))
        available = {m.slug: m for m in await public.public_lists(db_session)}
        chosen = [available[s] for s in dict.fromkeys(values["lists"]) if s in available]
        if not chosen:
            errors.append(("lists", "Choisissez au moins une liste."))
        if consent not in (True, "yes", "on", "true", "1"):
            errors.append(("consent", "Cochez la case de consentement pour vous inscrire."))
        if errors:
            if wants_json:
                raise ProblemError(
                    422,
                    "Invalid input: " + ", ".join(f for f, _ in errors),
                    errors=[field_error(f, m) for f, m in errors],
                )
            return await self._subscribe_form(request, db_session, values, [m for _, m in errors], 422)

        redis = request.app.state.redis
        client = rate_limit_bucket(request_address(request))
        windows = [
            Window(f"ratelimit:subscribe:client:{client}", *SUBSCRIBE_PER_CLIENT),
            Window(f"ratelimit:subscribe:client-day:{client}", *SUBSCRIBE_PER_CLIENT_DAY),
        ]
        wait = await blocked_for(redis, windows)
        if wait:
            if wants_json:
                raise ProblemError(429, "Too many attempts; try again later", headers={"Retry-After": str(wait)})
            response = message(
                request,
                "Trop de tentatives",
                "Nous avons reçu beaucoup de demandes depuis votre connexion. Réessayez un peu plus tard.",
                status_code=429,
                kind="error",
            )
            response.headers["Retry-After"] = str(wait)
            return response
        await hit(redis, windows)

        outcome = public.SubscribeOutcome()
        if await take(redis, Window(f"ratelimit:subscribe:mailbox:{mailbox_key(email)}", *SUBSCRIBE_PER_MAILBOX)):
            with as_contact(request, None):
                outcome = await public.subscribe_from_form(
                    db_session,
                    email=email,
                    first_name=values["first_name"],
                    last_name=values["last_name"],
                    lists=chosen,
                    consent_version=_text(form.get("consent_version"), 50),
                )
                await system_mail.queue_confirmations(db_session, outcome.to_confirm)
                await db_session.commit()
        if outcome.to_confirm:
            await system_mail.wake(redis)
        text = (
            "Merci ! Si cette adresse peut recevoir nos messages, un e-mail vient de lui être envoyé : "
            "cliquez sur le lien qu’il contient pour confirmer votre inscription."
        )
        if wants_json:
            return Response({"detail": text}, status_code=200)
        return message(request, "Vérifiez votre boîte de réception", text)

    @staticmethod
    async def _confirmation(db_session: AsyncSession, link: SignedLink) -> tuple[UUID, list[UUID], Person, list[str]]:
        ids = link.payload.get("subscription_ids")
        if not isinstance(ids, list):
            raise LinkError(expired=False)
        person_id = link.uuid("person_id")
        subscription_ids = [linked_uuid(i) for i in ids]
        person, names = await public.confirmation_details(db_session, person_id, subscription_ids)
        if person is None:
            raise link.gone()
        return person_id, subscription_ids, person, names

    @get(
        "/confirm/{token:str}",
        operation_id="showConfirmSubscription",
        summary="Confirmation page",
        description="Shows the lists to confirm with a button that POSTs; changes nothing.",
        dependencies=CONFIRM_LINK,
    )
    async def show_confirm(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
    ) -> Response[str]:
        _person_id, _ids, person, names = await self._confirmation(db_session, link)
        return page(
            request,
            "confirm.html",
            title="Confirmer mon inscription",
            email=person.email,
            lists=names,
            action=f"/confirm/{link.token}",
        )

    @post(
        "/confirm/{token:str}",
        operation_id="confirmSubscription",
        summary="Confirm a subscription",
        description="Double opt-in: the pending subscriptions of the link become active.",
        status_code=200,
        dependencies=CONFIRM_LINK,
    )
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
    ) -> Response[str]:
        person_id, ids, _person, names = await self._confirmation(db_session, link)
        with as_contact(request, person_id):
            await SubscriptionService(session=db_session).confirm(person_id, ids)
            await db_session.commit()
        return message(
            request,
            "Inscription confirmée",
            "Merci, votre inscription est confirmée" + (f" : {', '.join(names)}." if names else "."),
            link={"url": links.preferences_url(settings_of(request), person_id), "text": "Gérer mes abonnements"},
        )

    # ---- the links of a preview ------------------------------------------------------------

    @get(
        PREVIEW_LINK,
        operation_id="showPreviewLink",
        summary="A link of a preview",
        description="Where every personal link of a preview, a test message or the archive leads: it says "
        "so and does nothing.",
    )
    async def show_preview_link(self, request: Request[Any, Any, Any]) -> Response[str]:
        return _preview_link_page(request)

    @post(
        PREVIEW_LINK,
        operation_id="postPreviewLink",
        summary="A link of a preview (POST)",
        description="The same page for a form or a one-click POST: nothing is changed.",
        status_code=200,
    )
    async def post_preview_link(self, request: Request[Any, Any, Any]) -> Response[str]:
        return _preview_link_page(request)

    # ---- archive --------------------------------------------------------------------------

    @get(
        "/archive",
        operation_id="showArchive",
        summary="Public archive",
        description="Public publications and public campaigns; no personal data.",
    )
    async def archive(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Response[str]:
        async def render() -> Response[str]:
            return page(
                request,
                "archive.html",
                headers={"Cache-Control": "public, max-age=60"},
                title="Publications et archives",
                wide=True,
                publications=await public.public_publications(db_session),
                campaigns=await public.public_campaigns(db_session),
                kinds=PUBLICATION_KINDS,
            )

        return await kept_page(request, render)

    @get(
        "/palmares/{year:int}",
        operation_id="showPalmares",
        summary="The palmarès of a year, public",
        description='Every city or EPCI labelled that year, by number of "@": names and départements only.',
    )
    async def palmares(
        self,
        request: Request[Any, Any, Any],
        year: Annotated[int, Parameter(ge=2000, le=2100, description="The label's year")],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[str]:
        async def render() -> Response[str]:
            palmares = await public.public_palmares(db_session, year)
            if palmares is None:
                return message(
                    request,
                    "Palmarès introuvable",
                    f"Aucun palmarès n’est publié pour {year}.",
                    status_code=404,
                )
            return page(
                request,
                "palmares.html",
                headers={"Cache-Control": "public, max-age=60"},
                title=f"Palmarès {year} du label",
                wide=True,
                palmares=palmares,
                levels=range(5, 0, -1),
            )

        return await kept_page(request, render)

    @get(
        "/archive/campaigns/{campaign_id:uuid}",
        operation_id="showArchivedCampaign",
        summary="A public campaign on the web",
        description="The message of a public campaign as it was sent, with no recipient's data in it.",
    )
    async def archived_campaign(
        self, request: Request[Any, Any, Any], campaign_id: FromPath[UUID], db_session: NamedDependency[AsyncSession]
    ) -> Response[str]:
        settings = settings_of(request)
        html = await public.archived_html(db_session, campaign_id, lambda c: archive_view(settings, c))
        if not html:
            return message(
                request, "Message introuvable", "Ce message n’existe pas ou n’est pas public.", status_code=404
            )
        return Response(
            html,
            media_type=MediaType.HTML,
            headers={
                "Cache-Control": "public, max-age=300",
                "Content-Security-Policy": ARCHIVED_CAMPAIGN_POLICY,
                "X-Content-Type-Options": "nosniff",
            },
        )

    # ---- the association's logo -------------------------------------------------------------

    @get(
        "/brand/logo/{version:int}",
        operation_id="showLogo",
        summary="The association's logo",
        description="The uploaded logo (PNG or JPEG) that e-mails and pages show; the version in the address "
        "changes with each save of the settings.",
    )
    async def logo(
        self,
        version: Annotated[int, Parameter(ge=0, le=2**31 - 1, description="The settings' version")],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[bytes]:
        logo = await AssociationSettingsService(db_session).logo()
        if logo is None:
            return Response(b"", status_code=404, media_type=MediaType.TEXT)
        media_type, data = logo
        return Response(
            data,
            media_type=media_type,
            headers={
                "Cache-Control": "public, max-age=86400",
                # An image only, whatever it holds: no script or style may run from it.
                "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
                "X-Content-Type-Options": "nosniff",
            },
        )
