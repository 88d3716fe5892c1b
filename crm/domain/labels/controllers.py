"""The yearly label: awards by staff, a member's history, the palmarès of a year."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from crm.domain.auth.guards import requires_admin, requires_editor, requires_viewer
from crm.domain.labels.schemas import LabelCreate, LabelRead, LabelUpdate, Palmares
from crm.domain.labels.services import LabelService, provide_label_service
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.schemas import Page

SORTABLE = frozenset({"year", "level", "created_at"})


class LabelController(Controller):
    path = "/api/v1/labels"
    tags = ["Labels"]
    guards = [requires_viewer]
    dependencies = {
        "label_service": provide_label_service,
        "listing": list_query(SORTABLE),
    }

    @get(
        "/",
        operation_id="listLabels",
        summary="List label awards",
        description='Label awards, newest year first by default; filter by year, exact level ("@" count), '
        "green and organisation.",
    )
    async def list_labels(
        self,
        label_service: NamedDependency[LabelService],
        listing: NamedDependency[ListQuery],
        year: Annotated[int | None, Parameter(description="Only this year")] = None,
        level: Annotated[int | None, Parameter(ge=1, le=5, description='Only this number of "@"')] = None,
        green: Annotated[bool | None, Parameter(description='With (true) or without (false) the green "@"')] = None,
        organisation_id: Annotated[UUID | None, Parameter(description="Only this organisation")] = None,
    ) -> Page[LabelRead]:
        items, total = await label_service.search(
            listing, SORTABLE, year=year, level=level, green=green, organisation_id=organisation_id
        )
        return Page[LabelRead](**page(await label_service.read(items), total, listing))

    @get(
        "/palmares",
        operation_id="getPalmares",
        summary="The palmarès of a year",
        description='Every city or EPCI labelled that year, by number of "@" (most first) then name, with '
        'the count at each level and of green "@".',
    )
    async def get_palmares(
        self,
        label_service: NamedDependency[LabelService],
        year: Annotated[int, Parameter(description="The label's year")],
    ) -> Palmares:
        return await label_service.palmares(year)

    @get(
        "/{label_id:uuid}",
        operation_id="getLabel",
        summary="One label award",
        description="A label award by id.",
    )
    async def get_label(self, label_id: FromPath[UUID], label_service: NamedDependency[LabelService]) -> LabelRead:
        return (await label_service.read([await label_service.get(label_id)]))[0]

    @post(
        "/",
        operation_id="createLabel",
        summary="Award a label",
        description='Gives a commune or an EPCI its label for a year: 1 to 5 "@" and maybe the green "@". '
        "One per organisation and year (409 otherwise).",
        guards=[requires_editor],
    )
    async def create_label(
        self, data: JSONBody[LabelCreate], label_service: NamedDependency[LabelService]
    ) -> LabelRead:
        return (await label_service.read([await label_service.award(data)]))[0]

    @patch(
        "/{label_id:uuid}",
        operation_id="updateLabel",
        summary="Change a label award",
        description="Changes the year, level or green flag sent.",
        guards=[requires_editor],
    )
    async def update_label(
        self, label_id: FromPath[UUID], data: JSONBody[LabelUpdate], label_service: NamedDependency[LabelService]
    ) -> LabelRead:
        return (await label_service.read([await label_service.change(label_id, data)]))[0]

    @delete(
        "/{label_id:uuid}",
        operation_id="deleteLabel",
        summary="Withdraw a label award",
        description="Deletes a label award given by mistake.",
        guards=[requires_admin],
    )
    async def delete_label(self, label_id: FromPath[UUID], label_service: NamedDependency[LabelService]) -> None:
        await label_service.delete(label_id)


class OrganisationLabelController(Controller):
    path = "/api/v1/organisations/{organisation_id:uuid}/labels"
    tags = ["Labels"]
    guards = [requires_viewer]
    dependencies = {
        "label_service": provide_label_service,
        "listing": list_query(SORTABLE),
    }

    @get(
        "/",
        operation_id="listOrganisationLabels",
        summary="A member's label history",
        description="The labels of one organisation, newest year first.",
    )
    async def list_organisation_labels(
        self,
        organisation_id: FromPath[UUID],
        label_service: NamedDependency[LabelService],
        listing: NamedDependency[ListQuery],
    ) -> Page[LabelRead]:
        items, total = await label_service.history(organisation_id, listing, SORTABLE)
        return Page[LabelRead](**page(await label_service.read(items), total, listing))
