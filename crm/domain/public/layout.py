"""What every public page shares (subscription, unsubscribe, preferences, RSVP, archive, palmarès,
staff invitation): the page layout with the association's branding, the pages for a bad or expired
link, and the signed-link dependency that checks a token before the handler runs.

Pages are plain server-rendered HTML in French: no account, no cookie, no CSRF token (the signed
link is the proof); GET never changes anything."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from time import monotonic
from typing import Any
from uuid import UUID

import jinja2
from litestar import Controller, MediaType, Request, Response
from litestar.di import Provide
from litestar.params import FromPath
from litestar.types import ExceptionHandlersMap
from markupsafe import Markup
from redis.exceptions import RedisError

from crm.config import Settings
from crm.domain.association.branding import LOGO_PATH, Branding, current
from crm.domain.auth.guards import open_to_anyone
from crm.lib import frenchdates
from crm.lib.actor import Actor, acting_as
from crm.lib.mail import base_context
from crm.lib.security_headers import page_policy
from crm.lib.tokens import TokenError, read_token

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
TEMPLATES.filters["date_fr"] = lambda value: frenchdates.day(value, weekday=False)
# Every page: scripts and styles only those of our templates (by hash), no framing, no sniffing,
# and no Referer, so that a token in the address never reaches a linked site.
POLICY = page_policy(TEMPLATE_DIR)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# A token in the address must not travel to other sites, caches or search engines.
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
PUBLIC_PAGE_HEADERS = {"Referrer-Policy": "no-referrer"}


# The archive and the palmarès are the same for every visitor: each API process keeps the page it
# rendered for up to this long, under the version of the public content and of the branding. A staff
# write that succeeds moves the content version on (`public_content_changed`), so what staff publish
# shows at once; what changes with no request (a scheduled campaign starting) shows within the delay.
PUBLIC_PAGE_SECONDS = 30
PUBLIC_CONTENT_KEY = "crm:public-content:version"
_MAX_KEPT_PAGES = 1_000  # a page per path and version: a few at a time, the older ones dropped in bulk
_public_pages: dict[str, tuple[float, str, int, dict[str, Any]]] = {}


async def public_content_changed(redis: Any) -> None:
    with contextlib.suppress(RedisError, OSError):
        await redis.incr(PUBLIC_CONTENT_KEY)


async def kept_page(request: Request[Any, Any, Any], render: Callable[[], Awaitable[Response[str]]]) -> Response[str]:
    """The page as this process last rendered it for the current content, else `render()`'s."""
    redis = request.app.state.redis
    try:
        version = await redis.get(PUBLIC_CONTENT_KEY)
        if version is None:
            # A new or flushed Redis starts from a number no process has kept a page under.
            await redis.set(PUBLIC_CONTENT_KEY, secrets.randbits(48), nx=True)
            version = await redis.get(PUBLIC_CONTENT_KEY)
    except (RedisError, OSError):
        return await render()  # nothing can say what is current: every visitor gets a fresh page
    key = f"{request.url.path}|{request.state.branding.version}|{int(version or 0)}"
    now = monotonic()
    kept = _public_pages.get(key)
    if kept is not None and kept[0] > now:
        _, content, status_code, headers = kept
        return Response(content, status_code=status_code, media_type=MediaType.HTML, headers=headers)
    response = await render()
    if len(_public_pages) >= _MAX_KEPT_PAGES:
        _public_pages.clear()
    _public_pages[key] = (
        now + PUBLIC_PAGE_SECONDS,
        str(response.content),
        response.status_code or 200,
        dict(response.headers),
    )
    return response


def settings_of(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings


async def load_branding(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook of every public controller: the association as it is now (one Redis
    GET when nothing changed), for `page`."""
    state = request.app.state
    request.state.branding = await current(state.settings, state.redis, state.db_config.get_engine())


def _brand_style(branding: Branding) -> tuple[Markup, str]:
    """The one style that depends on the settings, and its CSP hash: the colour is checked as
    #rrggbb when saved, so the block holds nothing else."""
    css = f"header, button {{ background: {branding.brand_colour}; }}"
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return Markup(f"<style>{css}</style>"), f"'sha256-{digest}'"  # noqa: S704 - a checked colour only


def page(
    request: Request[Any, Any, Any],
    template: str,
    status_code: int = 200,
    *,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response[str]:
    branding: Branding = request.state.branding
    style, style_hash = _brand_style(branding)
    body = TEMPLATES.get_template(template).render(
        base_context(branding)
        | {"wide": False, "kind": None, "link": None, "brand_style": style}
        # The page's own address, not the public URL: the policy allows images from 'self' only.
        | {"logo_url": f"{LOGO_PATH}/{branding.version}" if branding.logo_url else ""}
        | context
    )
    policy = POLICY.replace("style-src ", f"style-src {style_hash} ", 1)
    return Response(
        body,
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={"Content-Security-Policy": policy} | SECURITY_HEADERS | (headers or PAGE_HEADERS),
    )


def message(
    request: Request[Any, Any, Any],
    title: str,
    *paragraphs: str,
    status_code: int = 200,
    kind: str | None = None,
    link: dict[str, str] | None = None,
) -> Response[str]:
    return page(request, "message.html", status_code, title=title, paragraphs=paragraphs, kind=kind, link=link)


# ---- links ----------------------------------------------------------------------------------


class LinkError(Exception):
    """A link that cannot be followed: `expired` (or leading to what no longer exists), or not valid."""

    def __init__(self, expired: bool, after: str = "") -> None:
        super().__init__("expired link" if expired else "invalid link")
        self.expired = expired
        self.after = after


def link_error_page(request: Request[Any, Any, Any], exc: LinkError) -> Response[str]:
    """410 for an expired link, 400 for a broken one: the exception handler of every public
    controller, so that handlers and the signed-link dependency simply raise `LinkError`."""
    if exc.expired:
        return message(
            request,
            "Ce lien a expiré",
            "Ce lien n’est plus valable : il a une durée de vie limitée, pour votre sécurité.",
            exc.after or "Utilisez le lien d’un message plus récent, ou écrivez-nous.",
            status_code=410,
            kind="error",
        )
    return message(
        request,
        "Ce lien n’est pas valide",
        "Ce lien est incomplet ou a été modifié. Copiez l’adresse entière depuis le message reçu, "
        "ou utilisez le bouton du message.",
        status_code=400,
        kind="error",
    )


def linked_uuid(value: Any) -> UUID:
    """An id a link signs; a signed value that is not one makes the link invalid."""
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise LinkError(expired=False) from exc


@dataclass(frozen=True)
class SignedLink:
    """What a verified link signs, and the token itself (forms post back to the same address)."""

    token: str
    payload: dict[str, Any]
    after: str = ""

    def uuid(self, key: str) -> UUID:
        return linked_uuid(self.payload.get(key))

    def optional_uuid(self, key: str) -> UUID | None:
        return self.uuid(key) if self.payload.get(key) else None

    def gone(self) -> LinkError:
        """A valid signature for what no longer exists (an erased person, a deleted event)."""
        return LinkError(expired=True, after=self.after)


def verify(
    request: Request[Any, Any, Any],
    token: str,
    purpose: str,
    max_age: int | Callable[[Settings], int],
    *,
    after: str = "",
) -> SignedLink:
    """The link of `token` if it is signed for `purpose` and younger than `max_age` seconds."""
    settings = settings_of(request)
    age = max_age(settings) if callable(max_age) else max_age
    try:
        payload = read_token(settings.security.secret_key.get_secret_value(), purpose, token, age)
    except TokenError as exc:
        raise LinkError(exc.expired, after) from exc
    return SignedLink(token, payload, after)


def signed_link(purpose: str, max_age: int | Callable[[Settings], int], *, after: str = "") -> Provide:
    """A dependency for a route with a `{token:str}` path parameter: the verified link, or the
    link error page (`LinkError`) before the handler runs. `after`: what the expired page suggests."""

    def provide(request: Request[Any, Any, Any], token: FromPath[str]) -> SignedLink:
        return verify(request, token, purpose, max_age, after=after)

    return Provide(provide, sync_to_thread=False)


LINK_ERRORS: ExceptionHandlersMap = {LinkError: link_error_page}


class PublicPages(Controller):
    """What every public page's controller shares: open to anyone (a signed link or nothing), out
    of the API's schema, the association's branding loaded first, bad links answered as pages."""

    guards = [open_to_anyone]
    tags = ["Public pages"]
    include_in_schema = False
    before_request = staticmethod(load_branding)
    exception_handlers = LINK_ERRORS


def as_contact(request: Request[Any, Any, Any], person_id: UUID | None) -> AbstractContextManager[Actor]:
    """Changes made from a signed link are the contact's own, in the audit log."""
    request_id = request.scope.get("state", {}).get("request_id")
    return acting_as(Actor(kind="contact", id=person_id, request_id=request_id))


async def read_form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Form fields (or a JSON object), with repeated fields such as `lists` as lists."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = await request.json()
        except Exception:  # a body that is not JSON is bad input, not a fault
            return {}
        return body if isinstance(body, dict) else {}
    form = await request.form()
    values: dict[str, Any] = {key: form.get(key) for key in form}
    values["lists"] = form.getall("lists") if "lists" in form else []
    return values
