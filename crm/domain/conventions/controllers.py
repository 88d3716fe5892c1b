"""Partnership conventions, and what falls due: notice deadlines and ends."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from crm.db.models.convention import ConventionStatus, Renewal
from crm.domain.auth.guards import requires_admin, requires_editor, requires_viewer
from crm.domain.conventions.schemas import ConventionCreate, ConventionRead, ConventionRenew, ConventionUpdate
from crm.domain.conventions.services import ConventionService
from crm.domain.providers import provide_convention_service
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.schemas import Page

SORTABLE = frozenset({"ends_on", "starts_on", "signed_on", "title", "status", "created_at"})
MAX_DAYS = 3660


class ConventionController(Controller):
    path = "/api/v1/conventions"
    tags = ["Partners"]
    guards = [requires_viewer]
    dependencies = {
        "convention_service": provide_convention_service,
        "listing": list_query(SORTABLE),
    }

    @get(
        "/",
        operation_id="listConventions",
        summary="List conventions",
        description="Conventions with their partner's name and, for tacit renewal, the notice deadline. "
        "`due_within_days=N` lists instead those whose notice deadline or end falls between today and "
        'today + N days, soonest first, each with `due` ("notice" or "end") and `due_on`; '
        "expired and terminated conventions are left out of it.",
    )
    async def list_conventions(
        self,
        convention_service: NamedDependency[ConventionService],
        listing: NamedDependency[ListQuery],
        organisation_id: Annotated[UUID | None, Parameter(description="Only this partner's")] = None,
        status: Annotated[ConventionStatus | None, Parameter(description="Only this status")] = None,
        renewal: Annotated[Renewal | None, Parameter(description="tacit or explicit")] = None,
        tag: Annotated[str | None, Parameter(max_length=100, description="Carries this tag")] = None,
        due_within_days: Annotated[
            int | None, Parameter(ge=0, le=MAX_DAYS, description="Notice deadline or end within N days")
        ] = None,
    ) -> Page[ConventionRead]:
        if due_within_days is not None:
            items, total = await convention_service.list_due(
                listing,
                due_within_days,
                organisation_id=organisation_id,
                status=status,
                renewal=renewal,
                tag=tag,
                today=date.today(),
            )
        else:
            items, total = await convention_service.list_conventions(
                listing, SORTABLE, organisation_id=organisation_id, status=status, renewal=renewal, tag=tag
            )
        return Page[ConventionRead](**page(items, total, listing))

    @get(
        "/{convention_id:uuid}",
        operation_id="getConvention",
        summary="One convention",
        description="A convention by id.",
    )
    async def get_convention(
        self, convention_id: FromPath[UUID], convention_service: NamedDependency[ConventionService]
    ) -> ConventionRead:
        return await convention_service.read(convention_id)

    @post(
        "/",
        operation_id="createConvention",
        summary="Add a convention",
        description="Records an agreement with a partner; the organisation is marked as a partner.",
        guards=[requires_editor],
    )
    async def create_convention(
        self, data: JSONBody[ConventionCreate], convention_service: NamedDependency[ConventionService]
    ) -> ConventionRead:
        return await convention_service.create_convention(data)

    @patch(
        "/{convention_id:uuid}",
        operation_id="updateConvention",
        summary="Change a convention",
        description="Changes the fields sent, e.g. the status once signed.",
        guards=[requires_editor],
    )
    async def update_convention(
        self,
        convention_id: FromPath[UUID],
        data: JSONBody[ConventionUpdate],
        convention_service: NamedDependency[ConventionService],
    ) -> ConventionRead:
        return await convention_service.update_convention(convention_id, data)

    @post(
        "/{convention_id:uuid}/renew",
        operation_id="renewConvention",
        summary="Renew a convention",
        description="Sets the new end sent (required for explicit renewal) or, for tacit renewal without one, "
        "extends the end by `renewal_term_months`. The previous end stays in the audit log.",
        guards=[requires_editor],
        status_code=200,
    )
    async def renew_convention(
        self,
        convention_id: FromPath[UUID],
        data: JSONBody[ConventionRenew],
        convention_service: NamedDependency[ConventionService],
    ) -> ConventionRead:
        return await convention_service.renew(convention_id, data)

    @delete(
        "/{convention_id:uuid}",
        operation_id="deleteConvention",
        summary="Delete a convention",
        description="Removes a convention entered by mistake; an ended one is better marked expired or terminated.",
        guards=[requires_admin],
    )
    async def delete_convention(
        self, convention_id: FromPath[UUID], convention_service: NamedDependency[ConventionService]
    ) -> None:
        await convention_service.delete_convention(convention_id)
