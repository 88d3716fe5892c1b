"""Events for staff: keep them, follow answers and figures, check people in at the door, export
the participants; and the events of a person's page and of a member's page."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from crm.db.models.event import Event, EventKind, EventStatus, InvitationStatus
from crm.domain.auth.guards import requires_admin, requires_editor, requires_viewer
from crm.domain.events.display import paris
from crm.domain.events.queue import enqueue_notifications
from crm.domain.events.schemas import (
    AttendanceRead,
    EventCreate,
    EventInvite,
    EventInviteResult,
    EventRead,
    EventUpdate,
    Figures,
    InvitationRead,
)
from crm.domain.events.services import INVITATION_SORT, EventService
from crm.domain.providers import provide_event_service
from crm.lib.csv_safety import CSV_MEDIA_TYPE, escape_cell
from crm.lib.listing import ListQuery, list_query, page, provide_list_query
from crm.lib.schemas import Page
from crm.lib.services import after_commit

EVENT_SORTABLE = frozenset({"starts_at", "title", "kind", "status", "created_at"})
ANSWER_LABELS = {"yes": "Oui", "no": "Non", "waiting": "Liste d’attente", "invited": "Sans réponse"}


def _read(event: Event, figures: dict[str, int]) -> EventRead:
    return EventRead.model_validate(
        {
            **{k: getattr(event, k) for k in EventRead.model_fields if hasattr(event, k)},
            "starts_at_paris": paris(event.starts_at),
            "ends_at_paris": paris(event.ends_at),
            "registration_deadline_paris": paris(event.registration_deadline),
            "figures": Figures(**figures),
        }
    )


async def _one(service: EventService, event: Event) -> EventRead:
    return _read(event, (await service.figures([event.id]))[event.id])


def _notify_after_commit(request: Request[Any, Any, Any], service: EventService) -> None:
    # Queued once the request is committed, so that the job finds the messages the change wrote.
    redis = request.app.state.redis
    after_commit(service.session, lambda: enqueue_notifications(redis))


class EventController(Controller):
    path = "/api/v1/events"
    tags = ["Events"]
    guards = [requires_viewer]
    dependencies = {
        "event_service": provide_event_service,
        "listing": list_query(EVENT_SORTABLE),
    }

    @get(
        "/",
        operation_id="listEvents",
        summary="List events",
        description="Soonest first by default, each with its figures; filter by kind, status, upcoming; "
        "`q` searches the title.",
    )
    async def list_events(
        self,
        event_service: NamedDependency[EventService],
        listing: NamedDependency[ListQuery],
        kind: Annotated[EventKind | None, Parameter(description="ceremony, congress, general_assembly...")] = None,
        status: Annotated[EventStatus | None, Parameter(description="scheduled or cancelled")] = None,
        upcoming: Annotated[bool | None, Parameter(description="Not yet over (true) or past (false)")] = None,
    ) -> Page[EventRead]:
        items, total = await event_service.search(listing, EVENT_SORTABLE, kind=kind, status=status, upcoming=upcoming)
        figures = await event_service.figures([e.id for e in items])
        return Page[EventRead](**page([_read(e, figures[e.id]) for e in items], total, listing))

    @post(
        "/",
        operation_id="createEvent",
        summary="Create an event",
        guards=[requires_editor],
        description="Kind, title, start and end (with an offset, or Europe/Paris local time without one), "
        "venue and address or an online link, capacity (guests included; empty for no limit), "
        "registration deadline, whether guests may come along.",
    )
    async def create_event(
        self, data: JSONBody[EventCreate], event_service: NamedDependency[EventService]
    ) -> EventRead:
        return await _one(event_service, await event_service.create_event(data.model_dump()))

    @get(
        "/{event_id:uuid}",
        operation_id="getEvent",
        summary="One event",
        description="An event with its figures: invited, opened the answer page, yes, no, waiting, attended.",
    )
    async def get_event(self, event_id: FromPath[UUID], event_service: NamedDependency[EventService]) -> EventRead:
        return await _one(event_service, await event_service.get(event_id))

    @patch(
        "/{event_id:uuid}",
        operation_id="updateEvent",
        summary="Change an event",
        guards=[requires_editor],
        description="Changes the fields sent. A new date or place raises the calendar SEQUENCE and sends "
        "everyone who said yes an update with the new .ics; more seats go to the waiting list first.",
    )
    async def update_event(
        self,
        request: Request[Any, Any, Any],
        event_id: FromPath[UUID],
        data: JSONBody[EventUpdate],
        event_service: NamedDependency[EventService],
    ) -> EventRead:
        event, queued = await event_service.update_event(event_id, data.model_dump(exclude_unset=True))
        if queued:
            _notify_after_commit(request, event_service)
        return await _one(event_service, event)

    @post(
        "/{event_id:uuid}/cancel",
        operation_id="cancelEvent",
        summary="Cancel an event",
        guards=[requires_editor],
        status_code=200,
        description="Marks the event cancelled and tells everyone who said yes or waits, with a calendar "
        "cancellation (METHOD:CANCEL) that removes the entry.",
    )
    async def cancel_event(
        self, request: Request[Any, Any, Any], event_id: FromPath[UUID], event_service: NamedDependency[EventService]
    ) -> EventRead:
        event = await event_service.cancel(event_id)
        _notify_after_commit(request, event_service)
        return await _one(event_service, event)

    @delete(
        "/{event_id:uuid}",
        operation_id="deleteEvent",
        summary="Delete an event",
        guards=[requires_admin],
        status_code=HTTP_204_NO_CONTENT,
        description="Deletes an event no invitation was sent for (409 otherwise: cancel it instead).",
    )
    async def delete_event(self, event_id: FromPath[UUID], event_service: NamedDependency[EventService]) -> None:
        await event_service.delete_event(event_id)

    @get(
        "/{event_id:uuid}/invitations",
        operation_id="listEventInvitations",
        summary="Invitations of an event",
        description="Everyone invited with their answer; filter by status and checked_in; `q` searches "
        "names and e-mail; sort by last_name (default), status, answered_at, checked_in_at, waiting_since.",
        dependencies={"listing": list_query(INVITATION_SORT)},
    )
    async def list_invitations(
        self,
        event_id: FromPath[UUID],
        event_service: NamedDependency[EventService],
        listing: NamedDependency[ListQuery],
        status: Annotated[InvitationStatus | None, Parameter(description="invited, yes, no, waiting")] = None,
        checked_in: Annotated[bool | None, Parameter(description="Came (true) or not (false)")] = None,
    ) -> Page[InvitationRead]:
        items, total = await event_service.invitations(event_id, listing, status=status, checked_in=checked_in)
        return Page[InvitationRead](**page([InvitationRead(**i) for i in items], total, listing))

    @post(
        "/{event_id:uuid}/invitations",
        operation_id="inviteToEvent",
        summary="Invite a segment or chosen people",
        guards=[requires_editor],
        status_code=200,
        description="No list to build first: everyone the segment selects, the `person_ids` and the "
        "people whose address is in `emails` (up to 50,000 of each) are invited and e-mailed the "
        "invitation with its answer buttons (it says when seats are limited). People already invited "
        "are left as they are; suppressed addresses are left out and named. One audit entry. 409 when "
        "the event is cancelled or its answers are closed.",
    )
    async def invite(
        self,
        request: Request[Any, Any, Any],
        event_id: FromPath[UUID],
        data: JSONBody[EventInvite],
        event_service: NamedDependency[EventService],
    ) -> EventInviteResult:
        counts = await event_service.invite_many(event_id, **data.model_dump())
        _notify_after_commit(request, event_service)
        return EventInviteResult(**counts)

    @post(
        "/{event_id:uuid}/invitations/{invitation_id:uuid}/check-in",
        operation_id="checkInInvitee",
        summary="Check a person in",
        guards=[requires_editor],
        status_code=200,
        description="Marks the person as present at the event (safe to repeat: the first time is kept).",
    )
    async def check_in(
        self,
        event_id: FromPath[UUID],
        invitation_id: FromPath[UUID],
        event_service: NamedDependency[EventService],
    ) -> InvitationRead:
        return InvitationRead(**await event_service.check_in(event_id, invitation_id, present=True))

    @delete(
        "/{event_id:uuid}/invitations/{invitation_id:uuid}/check-in",
        operation_id="undoCheckIn",
        summary="Undo a check-in",
        guards=[requires_editor],
        status_code=200,
        description="Marks the person as not present (a check-in made by mistake).",
    )
    async def undo_check_in(
        self,
        event_id: FromPath[UUID],
        invitation_id: FromPath[UUID],
        event_service: NamedDependency[EventService],
    ) -> InvitationRead:
        return InvitationRead(**await event_service.check_in(event_id, invitation_id, present=False))

    @get(
        "/{event_id:uuid}/participants.csv",
        operation_id="exportEventParticipants",
        summary="Export the participants as CSV",
        description="Everyone who said yes or came: name, e-mail, organisation, answer, guest, check-in "
        "(UTF-8 with BOM, semicolons: Excel opens it as is). The export is in the audit log.",
        media_type=CSV_MEDIA_TYPE,
    )
    async def export_participants(
        self, event_id: FromPath[UUID], event_service: NamedDependency[EventService]
    ) -> Response[bytes]:
        event, rows = await event_service.participants(event_id)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(
            ["Nom", "Prénom", "E-mail", "Organisation", "Réponse", "Accompagnant·e", "Répondu le", "Présent·e à"]
        )
        for last, first, email, organisation, status, guest, answered_at, checked_in_at in rows:
            cells = [
                last,
                first,
                email or "",
                organisation or "",
                ANSWER_LABELS.get(status.value, status.value),
                "oui" if guest else "non",
                paris(answered_at) or "",
                paris(checked_in_at) or "",
            ]
            writer.writerow([escape_cell(c) for c in cells])
        filename = f"participants-{event.starts_at.date().isoformat()}-{date.today().isoformat()}.csv"
        return Response(
            ("\ufeff" + out.getvalue()).encode("utf-8"),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


class PersonEventsController(Controller):
    path = "/api/v1/people/{person_id:uuid}/events"
    tags = ["Events"]
    guards = [requires_viewer]
    dependencies = {
        "event_service": provide_event_service,
        "listing": Provide(provide_list_query, sync_to_thread=False),
    }

    @get(
        "/",
        operation_id="listPersonEvents",
        summary="A person's events",
        description="The events the person was invited to, latest first, with their answer and attendance.",
    )
    async def list_person_events(
        self,
        person_id: FromPath[UUID],
        event_service: NamedDependency[EventService],
        listing: NamedDependency[ListQuery],
    ) -> Page[AttendanceRead]:
        items, total = await event_service.attendance(listing, person_id=person_id)
        return Page[AttendanceRead](**page([AttendanceRead(**i) for i in items], total, listing))


class OrganisationEventsController(Controller):
    path = "/api/v1/organisations/{organisation_id:uuid}/events"
    tags = ["Events"]
    guards = [requires_viewer]
    dependencies = {
        "event_service": provide_event_service,
        "listing": Provide(provide_list_query, sync_to_thread=False),
    }

    @get(
        "/",
        operation_id="listOrganisationEvents",
        summary="A member's events",
        description="The events the organisation's people (current positions) were invited to, latest "
        "first, with each person's answer and attendance.",
    )
    async def list_organisation_events(
        self,
        organisation_id: FromPath[UUID],
        event_service: NamedDependency[EventService],
        listing: NamedDependency[ListQuery],
    ) -> Page[AttendanceRead]:
        items, total = await event_service.attendance(listing, organisation_id=organisation_id)
        return Page[AttendanceRead](**page([AttendanceRead(**i) for i in items], total, listing))
