"""People (contacts, acteurs) and their positions over time."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter

from crm.db.models.person import PositionKind
from crm.domain.auth.guards import requires_admin, requires_editor, requires_viewer
from crm.domain.people.schemas import (
    JobChange,
    JobChangeRead,
    PersonCreate,
    PersonRead,
    PersonUpdate,
    PositionCreate,
    PositionRead,
    PositionUpdate,
)
from crm.domain.people.services import PersonService, PositionService
from crm.domain.providers import provide_person_service, provide_position_service
from crm.lib.listing import ListQuery, json_response, list_query, page, provide_list_query
from crm.lib.schemas import Page

PEOPLE_SORTABLE = frozenset({"last_name", "first_name", "email", "created_at"})
POSITIONS_SORTABLE = frozenset({"started_on", "ended_on", "title", "created_at"})


class PersonController(Controller):
    path = "/api/v1/people"
    tags = ["People"]
    guards = [requires_viewer]
    dependencies = {
        "person_service": provide_person_service,
        "position_service": provide_position_service,
        "listing": list_query(PEOPLE_SORTABLE),
    }

    @get(
        "/",
        operation_id="listPeople",
        summary="List people",
        description="Contacts with their current positions and tags. `q` searches first name, last name and "
        "e-mail, forgiving accents and case. The position filters (organisation_id, title, kind, region_code) "
        "apply to one current position.",
    )
    async def list_people(
        self,
        person_service: NamedDependency[PersonService],
        listing: NamedDependency[ListQuery],
        organisation_id: Annotated[UUID | None, Parameter(description="Holds a current position there")] = None,
        title: Annotated[
            str | None, Parameter(max_length=200, description="Part of a current position's title, any case or accents")
        ] = None,
        kind: Annotated[PositionKind | None, Parameter(description="elected or staff, in a current position")] = None,
        region_code: Annotated[
            str | None, Parameter(max_length=10, description="Région (INSEE code) of a current position's organisation")
        ] = None,
        board_member: Annotated[
            bool | None, Parameter(description="true: holds a board mandate running today; false: does not")
        ] = None,
        tag: Annotated[str | None, Parameter(max_length=100, description="Carries this tag (name, any case)")] = None,
    ) -> Response[Page[PersonRead]]:
        items, total = await person_service.list_people(
            listing,
            PEOPLE_SORTABLE,
            organisation_id=organisation_id,
            title=title,
            kind=kind,
            region_code=region_code,
            board_member=board_member,
            tag=tag,
        )
        return json_response(page(items, total, listing))

    @get(
        "/{person_id:uuid}",
        operation_id="getPerson",
        summary="One person",
        description="A person with their current positions and tags.",
    )
    async def get_person(self, person_service: NamedDependency[PersonService], person_id: FromPath[UUID]) -> PersonRead:
        return await person_service.read(person_id)

    @post(
        "/",
        operation_id="createPerson",
        summary="Add a person",
        description="The e-mail address, when given, is normalised and must not belong to another person (409).",
        guards=[requires_editor],
    )
    async def create_person(
        self, data: JSONBody[PersonCreate], person_service: NamedDependency[PersonService]
    ) -> PersonRead:
        person = await person_service.create_person(data)
        return (await person_service.reads([person]))[0]

    @patch(
        "/{person_id:uuid}",
        operation_id="updatePerson",
        summary="Change a person",
        description="Changes the fields sent; e-mail, phone and notes may be sent as null to clear them.",
        guards=[requires_editor],
    )
    async def update_person(
        self, person_id: FromPath[UUID], data: JSONBody[PersonUpdate], person_service: NamedDependency[PersonService]
    ) -> PersonRead:
        person = await person_service.update_person(person_id, data)
        return (await person_service.reads([person]))[0]

    @delete(
        "/{person_id:uuid}",
        operation_id="deletePerson",
        summary="Delete a person",
        description="A person with positions or board mandates is refused (409, listing them) unless "
        "`confirm=detach` is sent, which deletes those positions and mandates too.",
        guards=[requires_admin],
    )
    async def delete_person(
        self,
        person_id: FromPath[UUID],
        person_service: NamedDependency[PersonService],
        confirm: Annotated[
            Literal["detach"] | None, Parameter(description="detach: delete the positions and mandates too")
        ] = None,
    ) -> None:
        await person_service.delete_person(person_id, confirm)

    @get(
        "/{person_id:uuid}/positions",
        operation_id="listPersonPositions",
        summary="A person's career",
        description="Every position the person held or holds: current ones first, then the most recent.",
        # Always in that order: no sort field to choose.
        dependencies={"listing": Provide(provide_list_query, sync_to_thread=False)},
    )
    async def person_positions(
        self,
        person_id: FromPath[UUID],
        position_service: NamedDependency[PositionService],
        listing: NamedDependency[ListQuery],
    ) -> Page[PositionRead]:
        items, total = await position_service.history(person_id, listing)
        return Page[PositionRead](**page(items, total, listing))

    @post(
        "/{person_id:uuid}/job-change",
        operation_id="changePersonJob",
        summary="Record a job change",
        description='Ends the current positions named in `end_current` (or "all") on the day `on` and starts '
        "the new position that day, in one transaction: the history is kept.",
        guards=[requires_editor],
    )
    async def job_change(
        self, person_id: FromPath[UUID], data: JSONBody[JobChange], position_service: NamedDependency[PositionService]
    ) -> JobChangeRead:
        return await position_service.job_change(person_id, data)


class PositionController(Controller):
    path = "/api/v1/positions"
    tags = ["People"]
    guards = [requires_viewer]
    dependencies = {
        "position_service": provide_position_service,
        "listing": list_query(POSITIONS_SORTABLE),
    }

    @get(
        "/",
        operation_id="listPositions",
        summary="List positions",
        description="Positions of people in organisations, latest start first by default.",
    )
    async def list_positions(
        self,
        position_service: NamedDependency[PositionService],
        listing: NamedDependency[ListQuery],
        person_id: Annotated[UUID | None, Parameter(description="Only this person's")] = None,
        organisation_id: Annotated[UUID | None, Parameter(description="Only in this organisation")] = None,
        current: Annotated[bool | None, Parameter(description="true: held today; false: ended or not started")] = None,
    ) -> Page[PositionRead]:
        items, total = await position_service.list_positions(
            listing, POSITIONS_SORTABLE, person_id=person_id, organisation_id=organisation_id, current=current
        )
        return Page[PositionRead](**page(items, total, listing))

    @get(
        "/{position_id:uuid}",
        operation_id="getPosition",
        summary="One position",
        description="A position by id.",
    )
    async def get_position(
        self, position_id: FromPath[UUID], position_service: NamedDependency[PositionService]
    ) -> PositionRead:
        return await position_service.read(position_id)

    @post(
        "/",
        operation_id="createPosition",
        summary="Add a position",
        description="A person's role in an organisation; `ended_on` may not be before `started_on`. "
        "To move someone to a new job and keep the history, use /people/{id}/job-change.",
        guards=[requires_editor],
    )
    async def create_position(
        self, data: JSONBody[PositionCreate], position_service: NamedDependency[PositionService]
    ) -> PositionRead:
        return await position_service.create_position(data)

    @patch(
        "/{position_id:uuid}",
        operation_id="updatePosition",
        summary="Change a position",
        description="Changes the fields sent, e.g. `ended_on` when the person left.",
        guards=[requires_editor],
    )
    async def update_position(
        self,
        position_id: FromPath[UUID],
        data: JSONBody[PositionUpdate],
        position_service: NamedDependency[PositionService],
    ) -> PositionRead:
        return await position_service.update_position(position_id, data)

    @delete(
        "/{position_id:uuid}",
        operation_id="deletePosition",
        summary="Delete a position",
        description="Removes a position entered by mistake; to record that someone left, set `ended_on` instead.",
        guards=[requires_admin],
    )
    async def delete_position(
        self, position_id: FromPath[UUID], position_service: NamedDependency[PositionService]
    ) -> None:
        await position_service.delete(position_id)
