"""What fills a campaign message for one recipient: shared by the worker, the preview and the
test send, so that what staff preview is what recipients get."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

import jinja2
from markupsafe import escape
from sqlalchemy import func, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from crm.config import Settings
from crm.db.models.campaign import Campaign
from crm.db.models.person import Position
from crm.domain.events.links import rsvp_url
from crm.lib import frenchdates
from crm.lib.links import preferences_url, unsubscribe_url
from crm.lib.mail import CompiledTemplate, TemplateError, base_context, from_sources
from crm.lib.placeholders import MAX_RENDER_CHARS, PlaceholderEnvironment, PlaceholderError, bounded_render

# A position current today, the one rule (`Position.held_on`) written out for the text queries
# below, over the alias `pos`; today is the database's, as the query runs.
_TODAY_IN_SQL: Any = func.current_date()  # the query side of the rule takes a SQL day as well as a date
_HELD_TODAY = str(aliased(Position, name="pos").held_on(_TODAY_IN_SQL).compile(dialect=postgresql.dialect()))
# One row per person: names, their subscription to the campaign's list (the footer's "why"), and
# the organisation of their most recent current position. The sending engine reads the same
# columns with its claim (`RECIPIENT_COLUMNS` over `p` and `s`).
RECIPIENT_COLUMNS = (
    "p.first_name",
    "p.last_name",
    "s.status AS subscription_status",
    "s.legal_basis",
    "coalesce(s.confirmed_at, s.consented_at, s.created_at) AS subscribed_at",
    f"""(SELECT o.name FROM position pos JOIN organisation o ON o.id = pos.organisation_id
        WHERE pos.person_id = p.id AND {_HELD_TODAY}
        ORDER BY pos.started_on DESC NULLS LAST LIMIT 1) AS organisation""",
)
RECIPIENTS = text(f"""
SELECT p.id, p.email, {", ".join(RECIPIENT_COLUMNS)}
FROM person p
LEFT JOIN subscription s ON s.person_id = p.id AND s.list_id = :list_id
WHERE p.id = ANY(:ids)
""")


async def recipient_rows(conn: AsyncConnection, list_id: UUID, person_ids: list[UUID]) -> dict[UUID, Any]:
    rows = await conn.execute(RECIPIENTS, {"list_id": list_id, "ids": person_ids})
    return {row.id: row for row in rows}


def reason(list_name: str, person: Any) -> str:
    """The footer's answer to "why do I get this?", from the subscription's proof."""
    if person.legal_basis == "legitimate_interest":
        why = "en raison de vos fonctions"
    elif person.subscribed_at:
        why = f"avec votre accord du {frenchdates.day(person.subscribed_at, weekday=False)}"
    else:
        why = "avec votre accord"
    return f"Vous recevez ce message car vous êtes inscrit·e à la liste « {list_name} » {why}."


PREVIEW_LINK = "/preview-link"
# Every link of a message that acts for its recipient.
PERSONAL_LINKS = ("unsubscribe_url", "preferences_url", "rsvp_url", "rsvp_yes_url", "rsvp_no_url")


def inert_links(settings: Settings) -> dict[str, str]:
    """In a preview, a test or the archive, each personal link leads to a page that only says it
    belongs to a preview: a signed link only ever reaches its own recipient."""
    return dict.fromkeys(PERSONAL_LINKS, f"{settings.public_url}{PREVIEW_LINK}")


def recipient_fields(
    settings: Settings, campaign: Campaign, list_name: str, person: Any, *, preview: bool = False
) -> dict[str, Any]:
    """What differs from one recipient to the next: names, organisation, the footer's reason and
    the personal links. `preview`: inert links (staff preview and test send)."""
    if preview:
        links = inert_links(settings)
    else:
        links = {
            "unsubscribe_url": unsubscribe_url(settings, person.id, campaign.list_id, campaign.id),
            "preferences_url": preferences_url(settings, person.id, campaign.id),
        }
        if campaign.event_id is not None:
            # An invitation: each recipient's own signed links to answer yes or no.
            links |= {
                "rsvp_url": rsvp_url(settings, campaign.event_id, person.id),
                "rsvp_yes_url": rsvp_url(settings, campaign.event_id, person.id, "yes"),
                "rsvp_no_url": rsvp_url(settings, campaign.event_id, person.id, "no"),
            }
    fields = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "full_name": f"{person.first_name} {person.last_name}".strip(),
        "organisation": person.organisation or "",
    }
    return {
        **links,
        **fields,
        "preheader": fill_line(campaign.preheader or "", fields),
        "reason": reason(list_name, person),
    }


def recipient_context(
    settings: Settings, campaign: Campaign, list_name: str, person: Any, *, preview: bool = False
) -> dict[str, Any]:
    """The whole context of one recipient's message: the sender's (the campaign's) and theirs."""
    return {
        **base_context(settings.organisation),
        **recipient_fields(settings, campaign, list_name, person, preview=preview),
    }


@dataclass(frozen=True)
class Rendered:
    """A campaign message for one person: what the preview shows and the worker sends."""

    subject: str
    html: str
    text: str
    full_name: str
    unsubscribe_url: str


# Each recipient field as a marker that nothing else in a message holds (Unicode private use
# characters, which escaping leaves alone): the campaign is rendered by Jinja once with these in
# place of the recipient's values, and a message is then its pieces joined with the values.
_MARKER = "\ue000{}\ue001"
_MARKERS = re.compile("\ue000(\\d+)\ue001")
_RECIPIENT_FIELDS = (*PERSONAL_LINKS, "first_name", "last_name", "full_name", "organisation", "preheader", "reason")


@dataclass(frozen=True)
class _Pieces:
    """A body rendered once: the text between the recipient fields, and which field goes between."""

    texts: tuple[str, ...]
    fields: tuple[str, ...]
    used: frozenset[str]

    @classmethod
    def of(cls, rendered: str) -> _Pieces:
        parts = _MARKERS.split(rendered)
        fields = tuple(_RECIPIENT_FIELDS[int(i)] for i in parts[1::2])
        return cls(tuple(parts[0::2]), fields, frozenset(fields))

    def fill(self, values: dict[str, str]) -> str:
        out = [self.texts[0]]
        for field, text_after in zip(self.fields, self.texts[1:], strict=True):
            out.append(values[field])
            out.append(text_after)
        return "".join(out)


class CampaignRenderer:
    """Rendering a campaign for one person, the one function behind the worker, the preview and
    the test send, so that what staff preview is what recipients get. The template is rendered by
    Jinja once per campaign (`prepare`), with a marker for each recipient field; each message is
    then those pieces joined with the recipient's values, escaped in the HTML as Jinja escapes
    them. A template holds placeholders only (crm.lib.placeholders), so a field's value only ever
    lands where its placeholder stood; a template that holds a marker itself is rendered by Jinja
    for each person instead."""

    def __init__(
        self,
        settings: Settings,
        campaign: Campaign,
        template: CompiledTemplate,
        list_name: str,
        *,
        preview: bool = False,
    ) -> None:
        self.settings = settings
        self.campaign = campaign
        self.template = template
        self.list_name = list_name
        self.preview = preview
        self.sender = base_context(settings.organisation)
        self._pieces: tuple[_Pieces, _Pieces] | None = None
        self._per_person = any(
            "\ue000" in source or "\ue001" in source for source in (template.html_source, template.text_source)
        )

    def _prepared(self) -> tuple[_Pieces, _Pieces]:
        """Raises TemplateError when the template cannot be rendered (for anyone)."""
        if self._pieces is None:
            markers = {name: _MARKER.format(i) for i, name in enumerate(_RECIPIENT_FIELDS)}
            html, plain = self.template.render({**self.sender, **markers})
            self._pieces = (_Pieces.of(html), _Pieces.of(plain))
        return self._pieces

    def render(self, person: Any) -> Rendered:
        """The campaign for one person. Raises TemplateError when the message cannot be composed."""
        fields = recipient_fields(self.settings, self.campaign, self.list_name, person, preview=self.preview)
        if self._per_person:
            html, plain = self.template.render({**self.sender, **fields})
        else:
            html_pieces, text_pieces = self._prepared()
            # What Jinja writes for a value: str() of it, escaped in the HTML.
            html = html_pieces.fill({name: str(escape(fields[name])) for name in html_pieces.used})
            plain = text_pieces.fill({name: str(fields[name]) for name in text_pieces.used})
            if len(html) + len(plain) > MAX_RENDER_CHARS:
                raise TemplateError(f"{self.template.name}: the message would exceed {MAX_RENDER_CHARS} characters")
        return Rendered(
            subject=fill_line(self.campaign.subject, {**self.sender, **fields}),
            html=html,
            text=plain,
            full_name=fields["full_name"],
            unsubscribe_url=fields["unsubscribe_url"],
        )


def render_for(
    settings: Settings,
    campaign: Campaign,
    template: CompiledTemplate,
    list_name: str,
    person: Any,
    *,
    preview: bool = False,
) -> Rendered:
    """The campaign for one person (see CampaignRenderer). `preview`: inert links. Raises
    TemplateError when the message cannot be composed."""
    return CampaignRenderer(settings, campaign, template, list_name, preview=preview).render(person)


@lru_cache(maxsize=64)
def _line_template(source: str) -> jinja2.Template:
    return _LINE_ENV.from_string(source)


def fill_line(source: str, fields: dict[str, Any]) -> str:
    """A one-line field staff wrote (subject, preheader) with the recipient's fields filled in:
    placeholders only (checked when saved, and again here), on one line, so that no value can
    break out of a mail header."""
    if "{" not in source:
        return source
    try:
        line = bounded_render(_line_template(source), fields)
    except (jinja2.TemplateError, PlaceholderError) as exc:
        raise TemplateError(f"subject or preheader: {exc}") from exc
    return " ".join("".join(c if c.isprintable() else " " for c in line).split())


_LINE_ENV = PlaceholderEnvironment(autoescape=False)


@lru_cache(maxsize=16)
def _compiled(campaign_id: UUID, started_at: str, html: str, text: str) -> CompiledTemplate:
    return from_sources(f"campaign {campaign_id}", html, text, sandboxed=True)


def sent_template(campaign: Campaign) -> CompiledTemplate:
    """The template fixed when the send started, parsed by Jinja once per process (bounded: a
    worker or an archive page sees many campaigns over time)."""
    return _compiled(campaign.id, str(campaign.started_at), campaign.compiled_html or "", campaign.compiled_text or "")


def archive_view(settings: Settings, campaign: Campaign, template: CompiledTemplate | None = None) -> str:
    """The campaign as sent, for the public archive: every recipient field left empty, and every
    personal link inert. Rendered once, when the send starts, and stored (`archive_html`)."""
    html, _text = (template or sent_template(campaign)).render(
        {
            **base_context(settings.organisation),
            **inert_links(settings),
            "preheader": fill_line(campaign.preheader or "", {}),
            "first_name": "",
            "last_name": "",
            "full_name": "",
            "organisation": "",
            "reason": "Version en ligne de ce message, publiée dans les archives.",
        }
    )
    return html
