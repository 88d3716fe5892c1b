from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Enum,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db.base import Audited, Base

if TYPE_CHECKING:
    from crm.db.models.membership import Membership


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
        Index("ix_organisation_sort_name", "sort_name", "name"),
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
    # The name as a reader sorts it, whatever the collation (Élancourt among the E, not after Z):
    # stored, so that a sorted page does not compute it for every organisation at each request.
    sort_name: Mapped[str] = mapped_column(Text, Computed(f"{SEARCH_FUNCTION}(name)", persisted=True))

    membership: Mapped[Membership | None] = relationship(back_populates="organisation", uselist=False, lazy="raise")
