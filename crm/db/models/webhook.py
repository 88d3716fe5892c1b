"""Partner webhooks: the endpoints a partner organisation registers, and one outbox row per
message and endpoint (`webhook_delivery`), leased by the sending engine like e-mail deliveries.

A delivery row is written in the transaction of the change it tells of (crm.domain.webhooks.events),
so a change committed is a change told, whatever happens to the worker or Redis afterwards."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.models.organisation import pg_enum


class WebhookEvent(enum.StrEnum):
    CONTACT_CREATED = "contact.created"
    CONTACT_UPDATED = "contact.updated"
    CONTACT_DELETED = "contact.deleted"


class WebhookDeliveryStatus(enum.StrEnum):
    QUEUED = "queued"
    LEASED = "leased"
    SENT = "sent"  # the partner answered 2xx (the engine's word for "delivered")
    FAILED = "failed"  # refused for good (4xx), or out of attempts
    SKIPPED = "skipped"  # the endpoint was disabled or unsubscribed before its turn


class WebhookEndpoint(Audited, Base):
    """Where a partner wants to be told of changes. Secrets are kept in clear: signing needs them
    (Standard Webhooks is HMAC), and the audit log never shows them."""

    __tablename__ = "webhook_endpoint"
    __audit_exclude__ = frozenset({"secret", "previous_secret"})
    # The worker's bookkeeping of failures is not a staff change.
    __audit_ignore__ = frozenset({"failing_since"})

    organisation_id: Mapped[UUID] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(50)))
    # `whsec_` + base64 of 32 random bytes.
    secret: Mapped[str] = mapped_column(String(100))
    # During a rotation the old secret signs too, until `previous_secret_expires_at`.
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # Since when every delivery to it failed (None while it answers): days of it disable it.
    failing_since: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class WebhookDelivery(Base):
    """One message to one endpoint, with the engine's lease columns. Not `Audited`: these rows are
    the log themselves."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "next_attempt_at", postgresql_where=text("status = 'queued'")),
        Index("ix_webhook_delivery_leased", "lease_expires_at", postgresql_where=text("status = 'leased'")),
        Index("ix_webhook_delivery_endpoint", "endpoint_id", "created_at"),
    )

    endpoint_id: Mapped[UUID] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    # The partner organisation (what a partner may see is filtered on it).
    organisation_id: Mapped[UUID] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(50))
    # The `webhook-id` header: one per message, the same on every attempt, replay and endpoint,
    # so a partner can ignore a message it already has.
    message_id: Mapped[str] = mapped_column(String(60), index=True)
    # The exact body signed and sent (JSON text: the signature covers these bytes).
    body: Mapped[str] = mapped_column(Text)
    # A replay is a new row (the first one's answers stay visible); it names the row it replays.
    replay_of_id: Mapped[UUID | None] = mapped_column(ForeignKey("webhook_delivery.id", ondelete="SET NULL"))
    status: Mapped[WebhookDeliveryStatus] = mapped_column(
        pg_enum(WebhookDeliveryStatus, "webhook_delivery_status"), default=WebhookDeliveryStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    leased_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # The partner's last answer (status and the start of its body), or the network fault. The
    # engine's column name, shared by every consumer.
    smtp_response: Mapped[str | None] = mapped_column(Text)
