"""The suppression list's one home: how an address is hashed (in Python and in PostgreSQL), whether
an address is suppressed, and "suppress this address". Every send, import and form asks here.

The list holds SHA-256 hashes of normalised addresses, never the addresses: it outlives them
(an erased person stays suppressed)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, Protocol

from advanced_alchemy.config import SQLAlchemyAsyncConfig
from sqlalchemy import exists, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.suppression import Suppression, SuppressionReason
from crm.lib.actor import Actor, acting_as
from crm.lib.schemas import normalise_email
from crm.lib.services import open_session


def suppression_hash(email: str) -> str:
    """SHA-256 (hex) of the normalised address: the suppression list outlives the address itself."""
    try:
        normalised = normalise_email(email)
    except ValueError:
        # An address that fails the syntax check still gets a stable hash (trimmed, lower case),
        # so that whatever was suppressed stays suppressed.
        normalised = email.strip().lower()
    return hashlib.sha256(normalised.encode()).hexdigest()


def email_hash_sql(column: Any) -> Any:
    """The same hash computed by PostgreSQL, for the normalised (lower-case) addresses the CRM
    stores: lets a set-based query leave suppressed addresses out."""
    return func.encode(func.sha256(func.convert_to(func.lower(column), literal("UTF8"))), literal("hex"))


def suppressed_sql(address: str) -> str:
    """The same test in a named query's text: `address` is a SQL expression of the stored address."""
    return (
        "EXISTS (SELECT 1 FROM suppression x "
        f"WHERE x.email_hash = encode(sha256(convert_to(lower({address}), 'UTF8')), 'hex'))"
    )


async def is_suppressed(session: AsyncSession, email: str | None) -> bool:
    """Whether nothing may be sent to this address (unsubscribed from all, bounced, complained,
    erased, or suppressed by hand)."""
    if not email:
        return False
    return bool(await session.scalar(select(exists().where(Suppression.email_hash == suppression_hash(email)))))


async def suppress(session: AsyncSession, email: str, reason: SuppressionReason, note: str | None = None) -> bool:
    """Puts the address on the list unless it is there already (then the first reason stays), as
    an ORM insert so that the audit log records it. A concurrent suppression of the same address
    is not an error. True when it was added."""
    digest = suppression_hash(email)
    if await session.scalar(select(exists().where(Suppression.email_hash == digest))):
        return False
    try:
        async with session.begin_nested():
            session.add(Suppression(email_hash=digest, reason=reason, note=note))
    except IntegrityError:
        return False
    return True


class Refused(Protocol):
    """A permanent refusal as the SMTP transport reports it (crm.lib.mail.SmtpError)."""

    @property
    def unknown_mailbox(self) -> bool: ...

    recipient: str | None


async def suppress_unknown_mailbox(db_config: SQLAlchemyAsyncConfig, refusal: Refused, note: str) -> bool:
    """The one reading of a permanent refusal for every consumer that writes to a mailbox: 5.1.x
    means the mailbox does not exist, so the address is never written to again (a hard bounce),
    whether a campaign, an event message or the platform's own mail found out. True when it was
    such a refusal (the row is then recorded as bounced where the consumer has that status)."""
    if not refusal.unknown_mailbox or not refusal.recipient:
        return False
    with acting_as(Actor(kind="system")):
        async with open_session(db_config) as session:
            await suppress(session, refusal.recipient, SuppressionReason.HARD_BOUNCE, note)
    return True


async def erased_addresses(session: AsyncSession, emails: Iterable[str]) -> set[str]:
    """Which of these addresses belonged to an erased person: imports and partner pushes refuse
    them, whatever their other suppression reasons (the hash outlives the person)."""
    by_hash = {suppression_hash(e): e for e in emails}
    found: set[str] = set()
    hashes = list(by_hash)
    for start in range(0, len(hashes), 5000):
        chunk = hashes[start : start + 5000]
        rows = await session.scalars(
            select(Suppression.email_hash).where(
                Suppression.email_hash.in_(chunk), Suppression.reason == SuppressionReason.ERASED
            )
        )
        found.update(by_hash[h] for h in rows)
    return found


async def suppress_erased(session: AsyncSession, email: str) -> None:
    """The erasure's suppression: whatever suppressed the address before (a bounce, a "leave
    everything"), it now says "erased", so that imports refuse it with that reason."""
    digest = suppression_hash(email)
    existing = await session.scalar(select(Suppression).where(Suppression.email_hash == digest))
    if existing is None:
        await suppress(session, email, SuppressionReason.ERASED, "right to erasure")
    elif existing.reason is not SuppressionReason.ERASED:
        existing.reason = SuppressionReason.ERASED
        existing.note = "right to erasure"
