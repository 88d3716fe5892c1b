"""Memberships (adhésions), their status history, the fee schedule and dues (cotisations)."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db.base import Audited, Base
from crm.db.models.organisation import pg_enum

if TYPE_CHECKING:
    from crm.db.models.organisation import Organisation


class MembershipStatus(enum.StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    LAPSED = "lapsed"
    RESIGNED = "resigned"


class Membership(Audited, Base):
    """An organisation's membership (adhésion): one per organisation, its status history beside it."""

    __tablename__ = "membership"

    organisation_id: Mapped[UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"), unique=True)
    status: Mapped[MembershipStatus] = mapped_column(pg_enum(MembershipStatus, "membership_status"), index=True)
    member_since: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)

    organisation: Mapped[Organisation] = relationship(back_populates="membership", lazy="raise")


class MembershipStatusChange(Base):
    """One line of a membership's history: the status it took, when, and why."""

    __tablename__ = "membership_status_change"

    membership_id: Mapped[UUID] = mapped_column(ForeignKey("membership.id", ondelete="CASCADE"), index=True)
    status: Mapped[MembershipStatus] = mapped_column(pg_enum(MembershipStatus, "membership_status"))
    changed_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class FeeBand(Audited, Base):
    """The fee schedule (barème de cotisation): the yearly dues of a member by population band."""

    __tablename__ = "fee_band"
    __table_args__ = (
        UniqueConstraint("year", "min_population", name="uq_fee_band_year_min"),
        CheckConstraint("max_population IS NULL OR max_population > min_population", name="band_is_ordered"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    year: Mapped[int] = mapped_column(Integer, index=True)
    min_population: Mapped[int] = mapped_column(Integer)
    max_population: Mapped[int | None] = mapped_column(Integer)  # exclusive; None: no upper bound
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    label: Mapped[str | None] = mapped_column(String(100))


class DuesStatus(enum.StrEnum):
    INVOICED = "invoiced"
    PAID = "paid"
    WAIVED = "waived"


class Dues(Audited, Base):
    """A year's dues (cotisation) of a member."""

    __tablename__ = "dues"
    __table_args__ = (UniqueConstraint("organisation_id", "year", name="uq_dues_organisation_year"),)

    organisation_id: Mapped[UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    status: Mapped[DuesStatus] = mapped_column(pg_enum(DuesStatus, "dues_status"), index=True)
    invoiced_on: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
