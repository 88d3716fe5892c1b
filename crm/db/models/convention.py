"""Conventions signed with partner associations."""

from __future__ import annotations

import enum
from datetime import date
from uuid import UUID

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.models.organisation import pg_enum


class ConventionStatus(enum.StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    ACTIVE = "active"
    EXPIRED = "expired"
    TERMINATED = "terminated"


class Renewal(enum.StrEnum):
    TACIT = "tacit"  # reconduction tacite: renewed unless notice is given
    EXPLICIT = "explicit"  # renewed only by a new signature


class Convention(Audited, Base):
    """A signed agreement with a partner organisation (convention de partenariat)."""

    __tablename__ = "convention"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates_ordered"),
        CheckConstraint("notice_period_days >= 0", name="notice_not_negative"),
        Index("ix_convention_ends_on", "ends_on"),
    )

    organisation_id: Mapped[UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[ConventionStatus] = mapped_column(pg_enum(ConventionStatus, "convention_status"), index=True)
    signed_on: Mapped[date | None] = mapped_column(Date)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    renewal: Mapped[Renewal] = mapped_column(pg_enum(Renewal, "convention_renewal"))
    # With tacit renewal, notice must be given this many days before the end.
    notice_period_days: Mapped[int] = mapped_column(Integer, default=0)
    renewal_term_months: Mapped[int | None] = mapped_column(Integer)
    document_url: Mapped[str | None] = mapped_column(String(1000))
    commitments: Mapped[str | None] = mapped_column(Text)
