"""Campaigns and their deliveries: the sending engine's state, all of it in PostgreSQL.

A delivery row per recipient, unique per (person, campaign), is written in the transaction that
starts the send; workers lease due rows with FOR UPDATE SKIP LOCKED and record each SMTP answer
as it comes. Redis only carries campaign ids (architecture.md, "Sending")."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.models.organisation import pg_enum


class CampaignKind(enum.StrEnum):
    NEWSLETTER = "newsletter"  # lettre d'information
    ANNOUNCEMENT = "announcement"  # annonce (d'une publication, par exemple)
    INVITATION = "invitation"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    FINISHED = "finished"


class Campaign(Audited, Base):
    """One mailing (envoi): a newsletter, an announcement or an invitation, to a list narrowed by a
    segment if wanted, from an MJML template and content blocks."""

    __tablename__ = "campaign"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CampaignKind] = mapped_column(pg_enum(CampaignKind, "campaign_kind"))
    status: Mapped[CampaignStatus] = mapped_column(pg_enum(CampaignStatus, "campaign_status"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    preheader: Mapped[str | None] = mapped_column(String(300))
    from_name: Mapped[str] = mapped_column(String(200))
    from_email: Mapped[str] = mapped_column(String(320))
    reply_to: Mapped[str | None] = mapped_column(String(320))
    list_id: Mapped[UUID] = mapped_column(ForeignKey("mailing_list.id", ondelete="RESTRICT"), index=True)
    segment_id: Mapped[UUID | None] = mapped_column(ForeignKey("segment.id", ondelete="SET NULL"))
    publication_id: Mapped[UUID | None] = mapped_column(ForeignKey("publication.id", ondelete="SET NULL"))
    # The event an invitation campaign invites to; each recipient gets an invitation to answer.
    event_id: Mapped[UUID | None] = mapped_column(ForeignKey("event.id", ondelete="RESTRICT"), index=True)
    template: Mapped[str] = mapped_column(String(100))  # a file of email_templates/campaigns/
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)  # {"blocks": [...]}
    # Shown on the public archive, without personal data.
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    paused_reason: Mapped[str | None] = mapped_column(Text)
    # Fixed when the send starts: the audience and the compiled template every worker uses.
    audience_count: Mapped[int | None] = mapped_column(Integer)
    suppressed_count: Mapped[int | None] = mapped_column(Integer)
    compiled_html: Mapped[str | None] = mapped_column(Text)
    compiled_text: Mapped[str | None] = mapped_column(Text)
    # The web copy for the public archive, rendered once when the send starts (no recipient's data
    # in it), so that an anonymous visit never renders a staff-written template.
    archive_html: Mapped[str | None] = mapped_column(Text, deferred=True)


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"  # due at next_attempt_at
    LEASED = "leased"  # claimed by a worker until lease_expires_at
    SENT = "sent"  # the SMTP server accepted it
    FAILED = "failed"  # refused for good (5xx), or out of attempts
    BOUNCED = "bounced"  # the mailbox does not exist (5.1.x): the address is suppressed too
    UNSUBSCRIBED = "unsubscribed"  # the person left the list after the send began
    CANCELLED = "cancelled"  # the campaign was cancelled before it went out


class Delivery(Base):
    """One recipient of one campaign. Not `Audited`: the campaign's send is audited once, and these
    rows are the engine's log themselves."""

    __tablename__ = "delivery"
    __table_args__ = (
        # One index for the uniqueness and the person's side (an erasure's cascade); the
        # campaign's side is (campaign, status).
        UniqueConstraint("person_id", "campaign_id", name="uq_delivery_person_campaign"),
        # The claim query: due rows of one campaign, in order.
        Index(
            "ix_delivery_due",
            "campaign_id",
            "next_attempt_at",
            postgresql_where=text("status = 'queued'"),
        ),
        Index("ix_delivery_leased", "lease_expires_at", postgresql_where=text("status = 'leased'")),
        Index("ix_delivery_campaign_status", "campaign_id", "status"),
    )

    # No foreign keys: checked row by row they cost two thirds of starting a campaign of a million
    # (migration 0014). The rows are written from the people and the campaign themselves, and
    # triggers on `person` and `campaign` delete them with their person or campaign, as the
    # keys' ON DELETE CASCADE did.
    campaign_id: Mapped[UUID]
    person_id: Mapped[UUID]
    email: Mapped[str] = mapped_column(String(320))  # the address it went to, as it was then
    status: Mapped[DeliveryStatus] = mapped_column(pg_enum(DeliveryStatus, "delivery_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    leased_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    smtp_response: Mapped[str | None] = mapped_column(Text)
