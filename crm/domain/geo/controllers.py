"""The reference geography, read-only, for forms: régions and départements to filter by, and what
an organisation created from an INSEE code or a SIREN would be, before it is saved."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.reference import Departement, Region
from crm.domain.auth.guards import requires_viewer
from crm.domain.geo import services as geo
from crm.lib.problems import invalid
from crm.lib.schemas import Schema


class AreaRead(Schema):
    code: str
    name: str
    region_code: str | None = None


class PlaceRead(Schema):
    name: str
    population: int | None
    departement_code: str | None
    departement_name: str | None
    region_code: str | None
    region_name: str | None
    epci_siren: str | None
    epci_name: str | None


class GeoController(Controller):
    path = "/api/v1/geo"
    tags = ["Reference geography"]
    guards = [requires_viewer]

    @get(
        "/regions",
        operation_id="listRegions",
        summary="Régions",
        description="Every région of the reference geography, by name.",
    )
    async def regions(self, db_session: NamedDependency[AsyncSession]) -> list[AreaRead]:
        rows = await db_session.execute(select(Region.code, Region.name).order_by(Region.name))
        return [AreaRead(code=code, name=name) for code, name in rows]

    @get(
        "/departements",
        operation_id="listDepartements",
        summary="Départements",
        description="Every département of the reference geography, by code (01…95, 2A, 2B, 971…976).",
    )
    async def departements(self, db_session: NamedDependency[AsyncSession]) -> list[AreaRead]:
        rows = await db_session.execute(
            select(Departement.code, Departement.name, Departement.region_code).order_by(Departement.code)
        )
        return [AreaRead(code=code, name=name, region_code=region) for code, name, region in rows]

    @get(
        "/lookup",
        operation_id="lookUpPlace",
        summary="What a code names",
        description="The commune of an INSEE code or the intercommunality of a SIREN, with population, "
        "département, région and intercommunality: what creating an organisation from it would fill in. "
        "422 naming the field when the code is malformed or unknown.",
    )
    async def lookup(
        self,
        db_session: NamedDependency[AsyncSession],
        insee_code: Annotated[str | None, Parameter(max_length=10, description="e.g. 2A004")] = None,
        siren: Annotated[str | None, Parameter(max_length=20, description="9 digits")] = None,
    ) -> PlaceRead:
        if insee_code:
            _, place = await geo.commune(db_session, insee_code)
        elif siren:
            _, place = await geo.epci(db_session, siren)
        else:
            raise invalid("insee_code", "give an INSEE code or a SIREN")
        names = await geo.reference_names(db_session)
        return PlaceRead(
            name=place.name,
            population=place.population,
            departement_code=place.departement_code,
            departement_name=names.departements.get(place.departement_code or ""),
            region_code=place.region_code,
            region_name=names.regions.get(place.region_code or ""),
            epci_siren=place.epci_siren,
            epci_name=names.epcis.get(place.epci_siren or ""),
        )
