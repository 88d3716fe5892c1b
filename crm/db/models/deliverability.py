"""What comes back after sending: bounces (delivery status notifications, RFC 3464) and
complaints (feedback-loop reports, RFC 5965), each tied to the delivery it names; and the DKIM
key campaign mail may be signed with."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.models.organisation import pg_enum


class BounceKind(enum.StrEnum):
    HARD = "hard"  # the address will never work (5.x.x): suppressed at once
    SOFT = "soft"  # for now (mailbox full, 4.x.x): counted, suppressed after repeats
    COMPLAINT = "complaint"  # the person marked the message as spam (feedback report)


class Bounce(Base):
    """One report about one delivery. Only the address's hash is kept (as on the suppression
    list): soft bounces are counted per address across campaigns without storing it twice.
    Not `Audited`: each suppression or unsubscription it causes is audited where it happens."""

    __tablename__ = "bounce"
    __table_args__ = (
        Index("ix_bounce_email_hash_received", "email_hash", "received_at"),
        Index("ix_bounce_campaign_kind", "campaign_id", "kind"),
        Index("ix_bounce_review", "reviewed", "received_at"),
    )

    delivery_id: Mapped[UUID | None] = mapped_column(ForeignKey("delivery.id", ondelete="SET NULL"), index=True)
    campaign_id: Mapped[UUID | None] = mapped_column(ForeignKey("campaign.id", ondelete="SET NULL"))
    person_id: Mapped[UUID | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    email_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[BounceKind] = mapped_column(pg_enum(BounceKind, "bounce_kind"))
    # RFC 3464 fields as reported: `5.1.1`, `failed`, `smtp; 550 5.1.1 user unknown`.
    status: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str | None] = mapped_column(String(20))
    diagnostic: Mapped[str | None] = mapped_column(Text)
    # Who reported it (the reporting MTA or the feedback loop's organisation).
    reporter: Mapped[str | None] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    # Whether this report put the address on the suppression list.
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False)


class DkimKey(Audited, Base):
    """The key pair campaign mail is signed with; the newest one is used. The private key never
    leaves the database through the API, the public one is shown as the TXT record to publish."""

    __tablename__ = "dkim_key"
    __audit_exclude__ = frozenset({"private_key"})

    selector: Mapped[str] = mapped_column(String(63))
    domain: Mapped[str] = mapped_column(String(253))
    private_key: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(Text)
