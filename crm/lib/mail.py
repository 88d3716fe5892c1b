"""E-mail: templates compiled once, rendered per recipient, sent over SMTP.

The path (architecture.md, "Templates"): MJML with its layouts and partials is compiled by
mjml-python once per template; the CSS of `mj-style inline` is inlined once with css-inline
(mjml-python leaves it in a <style> block); a text version is derived once from that HTML. Both
are Jinja2 templates, rendered per recipient. Placeholders survive each step (tested)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiosmtplib
import jinja2
from markupsafe import escape

from crm.config import OrganisationSettings, SmtpEndpoint
from crm.lib.placeholders import PlaceholderEnvironment, PlaceholderError, bounded_render

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "email_templates"
_BLANK_RUNS = re.compile(r"\n{3,}")


class TemplateError(ValueError):
    pass


def _include_loader(root: Path):  # type: ignore[no-untyped-def]
    def load(path: str) -> str:
        target = (root / path).resolve()
        if root not in target.parents:
            raise TemplateError(f"include outside the templates folder: {path}")
        return target.read_text(encoding="utf-8")

    return load


def html_to_text(html: str) -> str:
    # MJML, the CSS inliner and inscriptis (with lxml) are imported where a template is compiled:
    # a worker sending a campaign only renders the sources the start stored, and need not load them.
    from inscriptis import get_text
    from inscriptis.model.config import ParserConfig

    text = get_text(html, ParserConfig(display_links=True))
    lines = [line.strip() for line in text.splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip() + "\n"


@dataclass(frozen=True)
class CompiledTemplate:
    """An e-mail template ready for per-recipient rendering. The sources are kept so that a
    campaign can store them and every worker renders exactly the same compiled version."""

    name: str
    html_source: str
    text_source: str
    html: jinja2.Template
    text: jinja2.Template
    # Staff-written (a campaign): size and time capped, any failure a TemplateError.
    bounded: bool = False

    def render(self, context: dict[str, Any]) -> tuple[str, str]:
        if not self.bounded:
            return self.html.render(context), self.text.render(context)
        try:
            return bounded_render(self.html, context), bounded_render(self.text, context)
        except PlaceholderError as exc:
            raise TemplateError(f"{self.name}: {exc}") from exc


_html_env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
_text_env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)  # noqa: S701
# Campaign content is written by staff: rendered in Jinja's sandbox, placeholders only (see
# crm.lib.placeholders), and a field a recipient lacks renders empty rather than stopping the send.
_sandbox_html_env = PlaceholderEnvironment(autoescape=True, keep_trailing_newline=True)
_sandbox_text_env = PlaceholderEnvironment(autoescape=False, keep_trailing_newline=True)


def from_sources(name: str, html_source: str, text_source: str, *, sandboxed: bool = False) -> CompiledTemplate:
    html_env, text_env = (_sandbox_html_env, _sandbox_text_env) if sandboxed else (_html_env, _text_env)
    try:
        return CompiledTemplate(
            name=name,
            html_source=html_source,
            text_source=text_source,
            html=html_env.from_string(html_source),
            text=text_env.from_string(text_source),
            bounded=sandboxed,
        )
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{name}: placeholder syntax error line {exc.lineno}: {exc.message}") from exc


@lru_cache(maxsize=1)
def _inliner() -> Any:
    import css_inline

    return css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=True)


def compile_mjml(
    source: str, name: str = "<string>", root: Path = TEMPLATES_DIR, *, sandboxed: bool = False
) -> CompiledTemplate:
    from mjml import mjml2html

    try:
        # fonts={}: no web font link, so opening a message tells no third party about the reader.
        compiled = mjml2html(source, include_loader=_include_loader(root), fonts={})
    except Exception as exc:  # mjml-python raises plain errors for bad MJML
        raise TemplateError(f"{name}: MJML does not compile: {exc}") from exc
    html = _inliner().inline(compiled)
    return from_sources(name, html, html_to_text(html), sandboxed=sandboxed)


@lru_cache(maxsize=64)
def load_template(name: str) -> CompiledTemplate:
    """A message template of `email_templates/`, compiled once per process."""
    path = TEMPLATES_DIR / f"{name}.mjml"
    if not path.is_file():
        raise TemplateError(f"no e-mail template named {name!r}")
    return compile_mjml(path.read_text(encoding="utf-8"), name=name)


def message_templates() -> list[str]:
    """Every message template (layouts and partials are only ever included)."""
    return sorted(p.stem for p in TEMPLATES_DIR.glob("*.mjml"))


class HtmlOnly:
    """A fragment shown in the HTML part and left out of the text part, without a statement in the
    template (campaign templates allow placeholders only): Jinja's autoescaping takes `__html__`,
    the text templates take `str()`."""

    def __init__(self, html: str) -> None:
        self._html = html

    def __html__(self) -> str:
        return self._html

    def __str__(self) -> str:
        return ""


def logo_image(url: str, name: str) -> HtmlOnly:
    if not url:
        return HtmlOnly("")
    return HtmlOnly(
        f'<img src="{escape(url)}" alt="{escape(name)}" height="48" '
        'style="display:block;height:48px;width:auto;border:0;margin:0 0 8px;background:#ffffff;padding:2px">'
    )


def base_context(organisation: OrganisationSettings) -> dict[str, Any]:
    """The sender as every message and page shows it. Given the branding (the stored settings,
    crm.domain.association.branding), it also has the uploaded logo's address."""
    return {
        "association": {
            "name": organisation.name,
            "postal_address": organisation.postal_address,
            "website": organisation.website,
            "brand_colour": organisation.brand_colour,
            "logo": logo_image(getattr(organisation, "logo_url", ""), organisation.name),
        }
    }


@dataclass
class OutgoingMessage:
    to: str
    subject: str
    html: str
    text: str
    sender: str
    sender_name: str = ""
    reply_to: str | None = None
    message_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def build(self) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = formataddr((self.sender_name, self.sender)) if self.sender_name else self.sender
        msg["To"] = self.to
        msg["Subject"] = self.subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = self.message_id or make_msgid(domain=self.sender.rpartition("@")[2] or None)
        if self.reply_to:
            msg["Reply-To"] = self.reply_to
        msg["Auto-Submitted"] = "auto-generated"
        for name, value in self.headers.items():
            msg[name] = value
        msg.set_content(self.text, subtype="plain", charset="utf-8")
        msg.add_alternative(self.html, subtype="html", charset="utf-8")
        return msg


class SmtpPool:
    """A worker's SMTP connections, lent to one message at a time (the outbox engine's lanes)."""

    def __init__(self, mailers: list[Mailer]) -> None:
        self._all = mailers
        self._free: asyncio.Queue[Mailer] = asyncio.Queue()
        for mailer in mailers:
            self._free.put_nowait(mailer)

    @property
    def size(self) -> int:
        return len(self._all)

    async def send_bytes(self, sender: str, recipient: str, data: bytes) -> str:
        mailer = await self._free.get()
        try:
            return await mailer.send_bytes(sender, recipient, data)
        finally:
            self._free.put_nowait(mailer)

    async def send(self, message: EmailMessage) -> str:
        mailer = await self._free.get()
        try:
            return await mailer.send(message)
        finally:
            self._free.put_nowait(mailer)

    async def close(self) -> None:
        for mailer in self._all:
            await mailer.close()


class SmtpError(Exception):
    """The server refused: `code` tells whether to retry (4xx, connection) or give up (5xx)."""

    def __init__(self, code: int, message: str, recipient: str | None = None) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        # The address the server refused (RCPT), so that an unknown mailbox can be suppressed.
        self.recipient = recipient

    @property
    def unknown_mailbox(self) -> bool:
        """5.1.x (RFC 3463): the address does not exist; writing to it again harms the sender's name."""
        return self.permanent and self.message.lstrip().startswith("5.1.")

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600


class Mailer:
    """One SMTP connection, opened on first use and reused; reopened after a fault. Sends are
    serialised on it (an SMTP session does one transaction at a time)."""

    def __init__(self, endpoint: SmtpEndpoint, timeout: float = 30.0) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        e = self.endpoint
        client = aiosmtplib.SMTP(
            hostname=e.host,
            port=e.port,
            use_tls=e.use_tls,
            start_tls=e.start_tls,
            username=e.username,
            password=e.password,
            timeout=self.timeout,
        )
        await client.connect()
        self._client = client
        return client

    async def send(self, message: EmailMessage) -> str:
        """Returns the server's answer to the message; raises SmtpError when it is refused."""
        sender = parseaddr(str(message["From"]))[1]
        recipient = parseaddr(str(message["To"]))[1]
        policy = SMTP if sender.isascii() and recipient.isascii() else SMTPUTF8
        return await self.send_bytes(sender, recipient, message.as_bytes(policy=policy))

    async def send_bytes(self, sender: str, recipient: str, data: bytes) -> str:
        async with self._lock:
            try:
                client = await self._connected()
                # An address with accents before the @ needs the server's SMTPUTF8 (RFC 6531).
                options = [] if sender.isascii() and recipient.isascii() else ["SMTPUTF8"]
                _refused, answer = await client.sendmail(sender, [recipient], data, mail_options=options)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                refusal = exc.recipients[0]
                raise SmtpError(refusal.code, refusal.message, recipient) from exc
            except aiosmtplib.SMTPResponseException as exc:
                await self._drop()
                raise SmtpError(exc.code, exc.message, recipient) from exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                await self._drop()
                # No answer at all is as temporary as a 4xx: retry later.
                raise SmtpError(421, f"connection fault: {exc}") from exc
            # aiosmtplib gives the text of the DATA reply; its code is 250 whenever it returns.
            return f"250 {answer}"

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            # A broken connection may fail to close; it is gone anyway.
            with contextlib.suppress(Exception):
                client.close()

    async def close(self) -> None:
        async with self._lock:
            if self._client is not None and self._client.is_connected:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                    await self._client.quit()
            self._client = None
