"""Conventions signed with partner associations."""

from __future__ import annotations

import enum
from datetime import date
from uuid import UUID

from sqlalchemy import CheckConstraint, ColumnElement, Date, ForeignKey, Index, Integer, String, Text, and_, or_
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.conditions import condition
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


# Statuses under which a convention binds both sides (a draft does not; an expired or terminated
# one no longer does).
BINDING = (ConventionStatus.SIGNED, ConventionStatus.ACTIVE)


# A convention *in force* on a day (today when not given), the one rule (the partner API shares
# contacts only under one): signed or active, started on or before that day (or no start known),
# and not ended before it (the end day is still covered). Python and SQL say it once each.
def _in_force_on(convention: Convention, day: date | None = None) -> bool:
    day = day or date.today()
    return (
        convention.status in BINDING
        and (convention.starts_on is None or convention.starts_on <= day)
        and (convention.ends_on is None or convention.ends_on >= day)
    )


def _in_force_on_sql(cls: type[Convention], day: date | ColumnElement[date] | None = None) -> ColumnElement[bool]:
    day = date.today() if day is None else day
    return and_(
        cls.status.in_(BINDING),
        or_(cls.starts_on.is_(None), cls.starts_on <= day),
        or_(cls.ends_on.is_(None), cls.ends_on >= day),
    )


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

    in_force_on = condition(_in_force_on, _in_force_on_sql)
