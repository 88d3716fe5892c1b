"""Looks codes up in the reference geography and says what an organisation created from them is."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.reference import Commune, Departement, Epci, Region
from crm.domain.geo.codes import clean_insee_code, clean_siren, invalid_code


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    population: int | None
    departement_code: str | None
    region_code: str | None
    epci_siren: str | None = None


async def commune(session: AsyncSession, raw_code: str, field: str = "insee_code") -> tuple[str, Place]:
    code = clean_insee_code(raw_code, field)
    row = await session.get(Commune, code)
    if row is None:
        # Staff type the postal code they know: say so, whatever the code.
        raise invalid_code(
            field,
            f"no commune has the INSEE code {code}: a postal code? They differ (Saint-Denis: INSEE 93066, "
            "postal code 93200); give the INSEE code, or the commune's name in a Commune column of an import",
            "unknown_insee_code",
            value=code,
        )
    return code, Place(row.name, row.population, row.departement_code, row.region_code, row.epci_siren)


async def epci(session: AsyncSession, raw_siren: str, field: str = "siren") -> tuple[str, Place]:
    siren = clean_siren(raw_siren, field)
    row = await session.get(Epci, siren)
    if row is None:
        raise invalid_code(
            field, f"{siren} is a valid SIREN but not one of an intercommunality (EPCI)", "not_epci_siren", value=siren
        )
    return siren, Place(row.name, row.population, row.departement_code, row.region_code)


@dataclass(frozen=True, slots=True)
class ReferenceNames:
    departements: dict[str, str]
    regions: dict[str, str]
    epcis: dict[str, str]


_names: ReferenceNames | None = None


async def reference_names(session: AsyncSession) -> ReferenceNames:
    """Names of départements, régions and EPCIs by code. The reference data only changes with a
    migration, so each process reads it once instead of three queries for every page."""
    global _names
    if _names is None:
        _names = ReferenceNames(
            departements=dict((await session.execute(select(Departement.code, Departement.name))).all()),
            regions=dict((await session.execute(select(Region.code, Region.name))).all()),
            epcis=dict((await session.execute(select(Epci.siren, Epci.name))).all()),
        )
    return _names
