from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from uuid import UUID

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db.base import Audited, Base


def pg_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    return Enum(enum_cls, name=name, values_callable=lambda e: [m.value for m in e])


class OrganisationKind(enum.StrEnum):
    COMMUNE = "commune"
    EPCI = "epci"  # intercommunalité
    DEPARTEMENT = "departement"
    REGION = "region"
    ASSOCIATION = "association"
    COMPANY = "company"
    STATE_AGENCY = "state_agency"
    OTHER = "other"


# The immutable wrapper around unaccent() that the generated search columns and the queries share
# (created by migration 0002, changed by 0009): lower case, no accents, apostrophes dropped
# (N'Diaye is "ndiaye"), anything else but a-z, 0-9, '@' and '.' as a space.
SEARCH_FUNCTION = "crm_search_text"


class Organisation(Audited, Base):
    """A member or partner: a commune, an EPCI, a département, a région, an association..."""

    __tablename__ = "organisation"
    __table_args__ = (
        Index(
            "ix_organisation_search",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
        ),
        Index("ix_organisation_kind_region", "kind", "region_code"),
        CheckConstraint("kind <> 'commune' OR insee_code IS NOT NULL", name="commune_has_insee_code"),
        CheckConstraint("kind <> 'epci' OR siren IS NOT NULL", name="epci_has_siren"),
    )

    kind: Mapped[OrganisationKind] = mapped_column(pg_enum(OrganisationKind, "organisation_kind"))
    name: Mapped[str] = mapped_column(String(200))
    insee_code: Mapped[str | None] = mapped_column(String(5), unique=True)
    siren: Mapped[str | None] = mapped_column(String(9), unique=True)
    population: Mapped[int | None] = mapped_column(Integer, index=True)
    departement_code: Mapped[str | None] = mapped_column(String(3), index=True)
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    # The intercommunality a commune belongs to (from the reference data).
    epci_siren: Mapped[str | None] = mapped_column(String(9), index=True)
    is_partner: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(500))
    address: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(
        Text,
        Computed(
            f"{SEARCH_FUNCTION}(name || ' ' || coalesce(insee_code, '') || ' ' || coalesce(siren, ''))", persisted=True
        ),
    )

    membership: Mapped[Membership | None] = relationship(back_populates="organisation", uselist=False, lazy="raise")


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


class LabelAward(Audited, Base):
    """A city's label for a year: 1 to 5 "@" (arobases), and whether it got the green "@"."""

    __tablename__ = "label_award"
    __table_args__ = (
        UniqueConstraint("organisation_id", "year", name="uq_label_award_organisation_year"),
        CheckConstraint("level BETWEEN 1 AND 5", name="level_1_to_5"),
        Index("ix_label_award_year_level", "year", "level"),
    )

    organisation_id: Mapped[UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    green: Mapped[bool] = mapped_column(Boolean, default=False)
