"""The partner API's tables: API clients and their keys, what partners push (their external ids and
the legal basis of each contact), the person's consent to be shared with partners, the change log
partners pull from, and the answers kept for idempotent writes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base, metadata
from crm.db.models.lists import LegalBasis
from crm.db.models.organisation import pg_enum

# What a key may do; a route names the one it needs (deny by default).
SCOPES = ("contacts:read", "contacts:write", "events:read")


class ApiClient(Audited, Base):
    """A partner organisation's access to the partner API (client d'API): a name staff recognise
    in the audit log, the scopes it holds, and its keys (`ApiKey`)."""

    __tablename__ = "api_client"
    __audit_ignore__ = frozenset({"last_used_at", "last_used_from"})

    organisation_id: Mapped[UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # When and from where any of its keys was last used (updated at most once a minute per key).
    last_used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    last_used_from: Mapped[str | None] = mapped_column(String(64))


class ApiKey(Audited, Base):
    """One key of a client. Only its SHA-256 is stored; `lookup_id` (in clear inside the key) finds
    the row without scanning. A rotation gives the old key an `expires_at` (the overlap)."""

    __tablename__ = "api_key"
    __audit_exclude__ = frozenset({"key_hash"})
    __audit_ignore__ = frozenset({"last_used_at", "last_used_from"})

    client_id: Mapped[UUID] = mapped_column(ForeignKey("api_client.id", ondelete="CASCADE"), index=True)
    lookup_id: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    # The key's last four characters, so that staff and partner can tell two keys apart.
    hint: Mapped[str] = mapped_column(String(8))
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    last_used_from: Mapped[str | None] = mapped_column(String(64))


class PartnerSharingConsent(Audited, Base):
    """A person's consent to have their contact details shared with the association's partners
    (consentement au partage avec les partenaires), with its proof as subscriptions keep theirs.
    Shared with a partner = granted here (not withdrawn) AND a convention in force with it today."""

    __tablename__ = "partner_sharing_consent"

    person_id: Mapped[UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    legal_basis: Mapped[LegalBasis] = mapped_column(pg_enum(LegalBasis, "legal_basis"))
    source: Mapped[str] = mapped_column(String(100))
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_version: Mapped[str | None] = mapped_column(String(50))
    consented_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class PartnerContact(Audited, Base):
    """A person as a partner knows them: the partner's own id for them, and the legal basis and
    proof the partner gave when it pushed them (base légale et preuve)."""

    __tablename__ = "partner_contact"
    __table_args__ = (
        UniqueConstraint("organisation_id", "external_id", name="uq_partner_contact_external_id"),
        UniqueConstraint("organisation_id", "person_id", name="uq_partner_contact_person"),
        Index("ix_partner_contact_person", "person_id"),
    )

    organisation_id: Mapped[UUID] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    person_id: Mapped[UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    legal_basis: Mapped[LegalBasis] = mapped_column(pg_enum(LegalBasis, "legal_basis"))
    source: Mapped[str] = mapped_column(String(100))
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_version: Mapped[str | None] = mapped_column(String(50))
    consented_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    proof_url: Mapped[str | None] = mapped_column(String(1000))


class PartnerIdempotentRequest(Base):
    """The first answer to a write sent with an `Idempotency-Key`, per client, kept a day: a
    replay with the same body gets it again."""

    __tablename__ = "partner_idempotent_request"
    __table_args__ = (UniqueConstraint("client_id", "key", name="uq_partner_idempotent_request_key"),)

    client_id: Mapped[UUID] = mapped_column(ForeignKey("api_client.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict] = mapped_column(JSONB)


# Every change to a contact a partner may see, in commit-safe order: `seq` orders them, `xid` (the
# writing transaction's id, xid8 as bigint) lets a reader take only what every older transaction
# has finished writing (crm/domain/partners/feed.py). Plain table: written by triggers in bulk.
contact_change = Table(
    "contact_change",
    metadata,
    Column("seq", BigInteger, Identity(always=True), primary_key=True),
    Column("xid", BigInteger, nullable=False, server_default=text("(pg_current_xact_id())::text::bigint")),
    # No foreign key: the change of a deleted person outlives it (its tombstone).
    Column("person_id", GUID(length=16), nullable=False),
    Column("deleted", Boolean, nullable=False, server_default=text("false")),
    Column("changed_at", DateTimeUTC(timezone=True), nullable=False, server_default=text("now()")),
    Index("ix_contact_change_xid", "xid"),
)


# Who was ever given whom (partage): a partner gets a tombstone only for a person it was sent, so
# that the feed never names to one partner the people it never shared with them.
partner_share = Table(
    "partner_share",
    metadata,
    Column("organisation_id", GUID(length=16), ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", GUID(length=16), primary_key=True),
    Column("shared_at", DateTimeUTC(timezone=True), nullable=False, server_default=text("now()")),
)


# How far each partner's webhooks have read the change log (crm/domain/partners/webhook_feed.py):
# the horizon of the last round, as a sync token holds it for a pull.
partner_webhook_cursor = Table(
    "partner_webhook_cursor",
    metadata,
    Column("organisation_id", GUID(length=16), ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
    Column("horizon", BigInteger, nullable=False),
    Column("updated_at", DateTimeUTC(timezone=True), nullable=False, server_default=text("now()")),
)
