"""Organisations: members, partners and prospects (communes, EPCI, départements, régions...)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from crm.db.models.membership import MembershipStatus
from crm.db.models.organisation import OrganisationKind
from crm.domain.auth.guards import requires_admin, requires_editor, requires_viewer
from crm.domain.organisations.schemas import OrganisationCreate, OrganisationRead, OrganisationUpdate, TimelineEntry
from crm.domain.organisations.services import OrganisationService
from crm.domain.providers import provide_organisation_service
from crm.lib.listing import ListQuery, json_response, list_query, page
from crm.lib.schemas import INT32_MAX, MAX_YEAR, MIN_YEAR, Page

SORTABLE = frozenset({"name", "kind", "population", "insee_code", "siren", "departement_code", "created_at"})


class OrganisationController(Controller):
    path = "/api/v1/organisations"
    tags = ["Organisations"]
    guards = [requires_viewer]
    dependencies = {
        "organisation_service": provide_organisation_service,
        "listing": list_query(SORTABLE),
    }

    @get(
        "/",
        operation_id="listOrganisations",
        summary="List organisations",
        description="Members, partners and prospects. `q` searches name, INSEE code and SIREN, forgiving "
        "accents, case and hyphens, and matches words as they are typed; without `sort`, best match first. "
        "Filters combine (AND).",
    )
    async def list_organisations(
        self,
        organisation_service: NamedDependency[OrganisationService],
        listing: NamedDependency[ListQuery],
        kind: Annotated[OrganisationKind | None, Parameter(description="Only this kind")] = None,
        region_code: Annotated[str | None, Parameter(max_length=10, description="Région code, e.g. 94")] = None,
        departement_code: Annotated[
            str | None, Parameter(max_length=10, description="Département code, e.g. 2A or 974")
        ] = None,
        population_min: Annotated[int | None, Parameter(le=INT32_MAX, ge=0, description="Population at least")] = None,
        population_max: Annotated[int | None, Parameter(le=INT32_MAX, ge=0, description="Population at most")] = None,
        membership_status: Annotated[MembershipStatus | None, Parameter(description="Membership status")] = None,
        label_year: Annotated[int | None, Parameter(ge=MIN_YEAR, le=MAX_YEAR, description="Labelled that year")] = None,
        label_level: Annotated[
            int | None, Parameter(ge=1, le=5, description='Label of at least this many "@" (in label_year if given)')
        ] = None,
        label_green: Annotated[bool | None, Parameter(description='Got the green "@" (in label_year if given)')] = None,
        board_member: Annotated[
            bool | None, Parameter(description="Holds a board mandate running today (true) or not (false)")
        ] = None,
        tag: Annotated[str | None, Parameter(max_length=100, description="Carries this tag (by name)")] = None,
        is_partner: Annotated[bool | None, Parameter(description="Partners only (true) or others (false)")] = None,
    ) -> Response[Page[OrganisationRead]]:
        items, total = await organisation_service.search(
            listing,
            SORTABLE,
            kind=kind,
            region_code=region_code,
            departement_code=departement_code,
            population_min=population_min,
            population_max=population_max,
            membership_status=membership_status,
            label_year=label_year,
            label_level=label_level,
            label_green=label_green,
            board_member=board_member,
            tag=tag,
            is_partner=is_partner,
        )
        return json_response(page(items, total, listing))

    @post(
        "/",
        operation_id="createOrganisation",
        summary="Create an organisation",
        description="A commune from its INSEE code, an EPCI from its SIREN: name, population, département, "
        "région and intercommunality come from the official data (which wins over what is sent). Other kinds "
        "by name; a département or région may give its code instead. A code already used answers 409.",
        guards=[requires_editor],
    )
    async def create_organisation(
        self, data: JSONBody[OrganisationCreate], organisation_service: NamedDependency[OrganisationService]
    ) -> OrganisationRead:
        organisation = await organisation_service.create_organisation(data)
        return await organisation_service.read_one(organisation)

    @get(
        "/{organisation_id:uuid}",
        operation_id="getOrganisation",
        summary="One organisation",
        description="An organisation with its membership status, latest label, tags and place names.",
    )
    async def get_organisation(
        self, organisation_id: FromPath[UUID], organisation_service: NamedDependency[OrganisationService]
    ) -> Response[OrganisationRead]:
        return json_response(await organisation_service.read(organisation_id))

    @get(
        "/{organisation_id:uuid}/timeline",
        operation_id="getOrganisationTimeline",
        summary="A member's whole story",
        description="Everything that happened to one organisation, newest first, in pages: membership "
        "(start, status changes, end) and dues (invoiced, paid), labels, positions started and ended there, "
        "board mandates, conventions, events its people attended, campaigns they received (one line per "
        "campaign) and audit entries on the organisation and those records. `kind` says which; `data` "
        "describes it. `q` and `sort` are not used.",
    )
    async def get_organisation_timeline(
        self,
        organisation_id: FromPath[UUID],
        organisation_service: NamedDependency[OrganisationService],
        listing: NamedDependency[ListQuery],
    ) -> Page[TimelineEntry]:
        items, total = await organisation_service.timeline(organisation_id, listing.limit, listing.offset)
        return Page[TimelineEntry](**page(items, total, listing))

    @patch(
        "/{organisation_id:uuid}",
        operation_id="updateOrganisation",
        summary="Change an organisation",
        description="Changes the fields sent. Kind, INSEE code and SIREN cannot change.",
        guards=[requires_editor],
    )
    async def update_organisation(
        self,
        organisation_id: FromPath[UUID],
        data: JSONBody[OrganisationUpdate],
        organisation_service: NamedDependency[OrganisationService],
    ) -> OrganisationRead:
        organisation = await organisation_service.update_organisation(organisation_id, data)
        return await organisation_service.read_one(organisation)

    @delete(
        "/{organisation_id:uuid}",
        operation_id="deleteOrganisation",
        summary="Delete an organisation",
        description="Refuses with 409 while positions, mandates, conventions, dues, labels or a membership "
        "are attached, counting them in `attached`. `confirm=detach` is the explicit choice to delete those "
        "records too (the people stay), then the organisation.",
        guards=[requires_admin],
    )
    async def delete_organisation(
        self,
        organisation_id: FromPath[UUID],
        organisation_service: NamedDependency[OrganisationService],
        confirm: Annotated[
            Literal["detach"] | None,
            Parameter(description="`detach`: also delete the records attached to the organisation"),
        ] = None,
    ) -> None:
        await organisation_service.remove(organisation_id, detach=confirm == "detach")
