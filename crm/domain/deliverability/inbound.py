"""`crm inbound`: the service's own SMTP endpoint for what comes back (bounces to the VERP return
paths, feedback-loop reports, mailto unsubscribes), and the IMAP poller for operators whose
bounces land in a mailbox instead. Both hand each message to BounceService.receive, in its own
transaction; a message is acknowledged (250, or deleted from the mailbox) only once that is
committed, so a database outage makes the sender try again rather than lose the report."""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
from typing import Any
from urllib.parse import unquote, urlsplit

import structlog
from advanced_alchemy.config import SQLAlchemyAsyncConfig
from aiosmtpd.controller import Controller

from crm.config import Settings
from crm.domain.deliverability.services import BounceService, Outcome
from crm.lib.services import open_session

log = structlog.get_logger("crm.deliverability.inbound")


async def receive(settings: Settings, db_config: SQLAlchemyAsyncConfig, raw: bytes, recipients: list[str]) -> Outcome:
    async with open_session(db_config) as session:
        outcome = await BounceService(session=session).receive(settings, raw, recipients)
    # Ids only: a report is about a person.
    log.info(
        "inbound_message",
        kind=outcome.kind,
        delivery_id=str(outcome.delivery_id) if outcome.delivery_id else None,
        bounce=outcome.bounce,
        suppressed=outcome.suppressed,
    )
    return outcome


class InboundHandler:
    """aiosmtpd handler: accepts mail for the bounce domain and the unsubscribe mailbox only."""

    def __init__(self, settings: Settings, db_config: SQLAlchemyAsyncConfig) -> None:
        self.settings = settings
        self.db_config = db_config
        unsubscribe = settings.organisation.unsubscribe_address.lower()
        self.domains = {
            settings.deliverability.domain(settings.organisation).lower(),
            unsubscribe.rpartition("@")[2],
        }

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.rpartition("@")[2].lower() not in self.domains:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        try:
            await receive(
                self.settings, self.db_config, envelope.original_content or envelope.content, envelope.rcpt_tos
            )
        except Exception:  # any fault: the sender keeps the message and tries again
            log.exception("inbound_failed")
            return "451 4.3.0 Try again later"
        return "250 OK"


def start_inbound(settings: Settings, db_config: SQLAlchemyAsyncConfig, host: str, port: int) -> Controller:
    """Starts the SMTP endpoint in a thread of its own (aiosmtpd's controller)."""
    handler = InboundHandler(settings, db_config)
    limit = settings.deliverability.inbound_max_bytes
    controller = Controller(
        handler,
        hostname=host,
        port=port,
        data_size_limit=limit,
        enable_SMTPUTF8=True,
    )
    controller.start()
    return controller


# ---- IMAP polling ----------------------------------------------------------------------------


def _imap_fetch(url: str) -> list[tuple[bytes, bytes]]:
    """Every message of the mailbox: (its number, its bytes). Blocking: run in a thread."""
    parts = urlsplit(url)
    cls = imaplib.IMAP4_SSL if parts.scheme == "imaps" else imaplib.IMAP4
    client = cls(parts.hostname or "localhost", parts.port or (993 if parts.scheme == "imaps" else 143))
    try:
        client.login(unquote(parts.username or ""), unquote(parts.password or ""))
        client.select(unquote(parts.path.lstrip("/")) or "INBOX")
        _, data = client.search(None, "ALL")
        found: list[tuple[bytes, bytes]] = []
        for number in data[0].split():
            _, fetched = client.fetch(number, "(RFC822)")
            raw = fetched[0][1] if fetched and isinstance(fetched[0], tuple) else b""
            found.append((number, raw))
        return found
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def _imap_delete(url: str, numbers: list[bytes]) -> None:
    parts = urlsplit(url)
    cls = imaplib.IMAP4_SSL if parts.scheme == "imaps" else imaplib.IMAP4
    client = cls(parts.hostname or "localhost", parts.port or (993 if parts.scheme == "imaps" else 143))
    try:
        client.login(unquote(parts.username or ""), unquote(parts.password or ""))
        client.select(unquote(parts.path.lstrip("/")) or "INBOX")
        for number in numbers:
            client.store(number.decode(), "+FLAGS", "\\Deleted")
        client.expunge()
    finally:
        client.logout()


async def poll_imap_once(settings: Settings, db_config: SQLAlchemyAsyncConfig) -> int:
    """Reads the mailbox once; each message handled is deleted from it. The count handled."""
    url = settings.deliverability.imap_url
    if url is None:
        return 0
    secret_url = url.get_secret_value()
    messages = await asyncio.to_thread(_imap_fetch, secret_url)
    done: list[bytes] = []
    for number, raw in messages:
        await receive(settings, db_config, raw, [])
        done.append(number)
    if done:
        await asyncio.to_thread(_imap_delete, secret_url, done)
    return len(done)


async def poll_imap(settings: Settings, db_config: SQLAlchemyAsyncConfig) -> None:
    while True:
        try:
            await poll_imap_once(settings, db_config)
        except (OSError, imaplib.IMAP4.error):
            log.warning("imap_poll_failed")
        await asyncio.sleep(settings.deliverability.imap_poll_seconds)


__all__ = ["InboundHandler", "poll_imap", "poll_imap_once", "receive", "start_inbound"]
