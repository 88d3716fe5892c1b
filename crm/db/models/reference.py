"""The official geography (INSEE), loaded once by a migration from `crm/data/fr-geo/`.

Read-only for the application: a member created from an INSEE code or a SIREN is checked against
these tables and filled in from them. Prefixed `ref_` so that test clean-ups leave them alone."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from crm.db.base import metadata


class ReferenceBase(DeclarativeBase):
    metadata = metadata


class Region(ReferenceBase):
    __tablename__ = "ref_region"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Departement(ReferenceBase):
    __tablename__ = "ref_departement"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(ForeignKey("ref_region.code"), index=True)


class Epci(ReferenceBase):
    """An intercommunality (EPCI à fiscalité propre): CC, CA, CU or métropole (ME)."""

    __tablename__ = "ref_epci"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(2))
    # Sum of its communes' municipal populations, computed at load time.
    population: Mapped[int | None] = mapped_column(Integer)
    departement_code: Mapped[str | None] = mapped_column(String(3))
    region_code: Mapped[str | None] = mapped_column(String(3))


class Commune(ReferenceBase):
    __tablename__ = "ref_commune"

    insee_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(3))  # COM, or ARM for Paris/Lyon/Marseille arrondissements
    population: Mapped[int | None] = mapped_column(Integer)
    departement_code: Mapped[str] = mapped_column(String(3), index=True)
    region_code: Mapped[str] = mapped_column(String(3))
    epci_siren: Mapped[str | None] = mapped_column(String(9), index=True)
