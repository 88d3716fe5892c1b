"""The board (conseil d'administration): mandates, and the board as it stood on a given day."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from crm.db.models.board import BoardRole
from crm.domain.auth.guards import requires_admin, requires_editor, requires_viewer
from crm.domain.board.schemas import BoardRead, MandateCreate, MandateRead, MandateUpdate
from crm.domain.board.services import MandateService
from crm.domain.providers import provide_mandate_service
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.schemas import Page

SORTABLE = frozenset({"term_start", "term_end", "role", "created_at"})
MAX_DAYS = 3660


class MandateController(Controller):
    path = "/api/v1/mandates"
    tags = ["Board"]
    guards = [requires_viewer]
    dependencies = {
        "mandate_service": provide_mandate_service,
        "listing": list_query(SORTABLE),
    }

    @get(
        "/",
        operation_id="listMandates",
        summary="List board mandates",
        description="Mandates with the person and the organisation they represent. `ending_within_days=N` "
        "lists those whose term ends between today and today + N days, soonest first.",
    )
    async def list_mandates(
        self,
        mandate_service: NamedDependency[MandateService],
        listing: NamedDependency[ListQuery],
        person_id: Annotated[UUID | None, Parameter(description="Held by this person")] = None,
        organisation_id: Annotated[UUID | None, Parameter(description="Held on behalf of this organisation")] = None,
        role: Annotated[BoardRole | None, Parameter(description="Only this role")] = None,
        current: Annotated[bool | None, Parameter(description="true: the term covers today")] = None,
        ending_within_days: Annotated[
            int | None, Parameter(ge=0, le=MAX_DAYS, description="Term ends between today and today + N days")
        ] = None,
    ) -> Page[MandateRead]:
        items, total = await mandate_service.list_mandates(
            listing,
            SORTABLE,
            person_id=person_id,
            organisation_id=organisation_id,
            role=role,
            current=current,
            ending_within_days=ending_within_days,
            today=date.today(),
        )
        return Page[MandateRead](**page(items, total, listing))

    @get(
        "/board",
        operation_id="getBoard",
        summary="The board on a day",
        description="Who sat on the board on the day `on` (default today): president, vice-presidents, "
        "treasurer, secretary, then members, with the organisation each represents.",
    )
    async def get_board(
        self,
        mandate_service: NamedDependency[MandateService],
        on: Annotated[date | None, Parameter(description="The day (ISO 8601); default today")] = None,
    ) -> BoardRead:
        return await mandate_service.board(on or date.today())

    @get("/{mandate_id:uuid}", operation_id="getMandate", summary="One mandate", description="A mandate by id.")
    async def get_mandate(
        self, mandate_id: FromPath[UUID], mandate_service: NamedDependency[MandateService]
    ) -> MandateRead:
        return await mandate_service.read(mandate_id)

    @post(
        "/",
        operation_id="createMandate",
        summary="Add a board mandate",
        description="There is at most one president, one treasurer and one secretary on any day: a term "
        "overlapping another holder's is refused (409, naming role).",
        guards=[requires_editor],
    )
    async def create_mandate(
        self, data: JSONBody[MandateCreate], mandate_service: NamedDependency[MandateService]
    ) -> MandateRead:
        return await mandate_service.create_mandate(data)

    @patch(
        "/{mandate_id:uuid}",
        operation_id="updateMandate",
        summary="Change a mandate",
        description="Changes the fields sent (e.g. the term's end), with the same one-holder rule.",
        guards=[requires_editor],
    )
    async def update_mandate(
        self,
        mandate_id: FromPath[UUID],
        data: JSONBody[MandateUpdate],
        mandate_service: NamedDependency[MandateService],
    ) -> MandateRead:
        return await mandate_service.update_mandate(mandate_id, data)

    @delete(
        "/{mandate_id:uuid}",
        operation_id="deleteMandate",
        summary="Delete a mandate",
        description="Removes a mandate entered by mistake; to record its end, set `term_end` instead.",
        guards=[requires_admin],
    )
    async def delete_mandate(
        self, mandate_id: FromPath[UUID], mandate_service: NamedDependency[MandateService]
    ) -> None:
        await mandate_service.delete(mandate_id)
