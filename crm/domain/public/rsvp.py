"""The public answer page of an invitation, reached from the e-mail by a signed link: no account,
no cookie. GET shows the event and the current answer (`?answer=yes|no` preselects it) and changes
nothing; POST records the answer. The page counts itself as opened with a separate POST (a beacon
fired by the page), since a GET must not change state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.event import Event, EventStatus, Invitation, InvitationStatus
from crm.db.models.person import Person
from crm.domain.events import links
from crm.domain.events import services as events
from crm.domain.events.display import summary
from crm.domain.events.queue import enqueue_notifications
from crm.domain.public.layout import (
    LinkError,
    PublicPages,
    SignedLink,
    as_contact,
    page,
    read_form,
    signed_link,
    verify,
)

CURRENT = {
    InvitationStatus.INVITED: "Vous n’avez pas encore répondu.",
    InvitationStatus.YES: "Votre réponse : vous participez.",
    InvitationStatus.NO: "Votre réponse : vous ne participez pas.",
    InvitationStatus.WAITING: "Vous êtes sur la liste d’attente : nous vous écrirons si une place se libère.",
}


AFTER = "Répondez depuis le message d’invitation le plus récent."
RSVP_LINK = {"link": signed_link(links.RSVP, links.rsvp_max_age, after=AFTER)}


def _ids(link: SignedLink) -> tuple[UUID, UUID]:
    return link.uuid("event_id"), link.uuid("person_id")


async def _load(session: AsyncSession, event_id: UUID, person_id: UUID) -> tuple[Event, Invitation, Person]:
    row = (
        await session.execute(
            select(Event, Invitation, Person)
            .join(Invitation, Invitation.event_id == Event.id)
            .join(Person, Person.id == Invitation.person_id)
            .where(Event.id == event_id, Invitation.person_id == person_id)
        )
    ).one_or_none()
    if row is None:
        # A valid signature for an invitation that no longer exists (erased person, deleted event).
        raise LinkError(expired=True, after=AFTER)
    return row[0], row[1], row[2]


def _answer_page(
    request: Request[Any, Any, Any],
    token: str,
    event: Event,
    invitation: Invitation,
    person: Person,
    *,
    preselect: str | None,
    notice: str | None = None,
    notice_kind: str | None = None,
    status_code: int = 200,
    beacon: bool = False,
) -> Response[str]:
    now = datetime.now(UTC)
    is_open = event.status == EventStatus.SCHEDULED and not events.answers_closed(event, now)
    current = CURRENT[invitation.status]
    if event.status == EventStatus.CANCELLED:
        notice, notice_kind = "Cet événement est annulé.", "error"
    elif not is_open:
        notice = notice or "Les réponses sont closes pour cet événement. " + current
        notice_kind = notice_kind or "error"
    if preselect is None and invitation.status in (InvitationStatus.YES, InvitationStatus.WAITING):
        preselect = "yes"
    elif preselect is None and invitation.status == InvitationStatus.NO:
        preselect = "no"
    return page(
        request,
        "rsvp.html",
        status_code,
        title=event.title,
        event=summary(event),
        name=f"{person.first_name} {person.last_name}".strip(),
        current=current,
        open=is_open,
        preselect=preselect,
        with_guest=invitation.with_guest,
        action=f"/rsvp/{token}",
        opened_url=f"/rsvp/{token}/opened" if beacon and invitation.first_opened_at is None else None,
        notice=notice,
        notice_kind=notice_kind,
    )


class RsvpController(PublicPages):
    path = "/rsvp"

    @get(
        "/{token:str}",
        operation_id="showRsvpPage",
        summary="Invitation answer page",
        description="The event and the invitee's current answer, with a form that POSTs; changes nothing.",
        dependencies=RSVP_LINK,
    )
    async def show(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
    ) -> Response[str]:
        token = link.token
        event, invitation, person = await _load(db_session, *_ids(link))
        wanted = request.query_params.get("answer")
        preselect = wanted if wanted in ("yes", "no") else None
        return _answer_page(request, token, event, invitation, person, preselect=preselect, beacon=True)

    @post(
        "/{token:str}/opened",
        operation_id="markRsvpOpened",
        summary="Count the answer page as opened",
        description="Fired by the answer page itself: records when the invitee first opened it.",
        status_code=204,
    )
    async def opened(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], token: FromPath[str]
    ) -> Response[None]:
        # A beacon, not a page: a bad link answers with nothing.
        try:
            event_id, person_id = _ids(verify(request, token, links.RSVP, links.rsvp_max_age))
        except LinkError:
            return Response(None, status_code=400)
        await events.mark_opened(db_session, event_id, person_id)
        await db_session.commit()
        return Response(None, status_code=204, headers={"Cache-Control": "no-store"})

    @post(
        "/{token:str}",
        operation_id="answerInvitation",
        summary="Answer an invitation",
        description="`answer=yes|no`, `with_guest=on` when guests are allowed. A yes that fits the free "
        "seats is taken, otherwise it waits; a guest the capacity can never hold is refused and the yes "
        "taken alone; after the deadline nothing changes.",
        status_code=200,
        dependencies=RSVP_LINK,
    )
    async def answer(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        link: NamedDependency[SignedLink],
    ) -> Response[str]:
        token = link.token
        event_id, person_id = _ids(link)
        event, invitation, person = await _load(db_session, event_id, person_id)
        form = await read_form(request)
        choice = form.get("answer")
        if choice not in ("yes", "no"):
            return _answer_page(
                request,
                token,
                event,
                invitation,
                person,
                preselect=None,
                notice="Choisissez « Je participe » ou « Je ne participe pas ».",
                notice_kind="error",
                status_code=422,
            )
        with_guest = form.get("with_guest") in (True, "on", "yes", "true", "1")
        with as_contact(request, person_id):
            outcome = await events.answer(db_session, event_id, person_id, yes=choice == "yes", with_guest=with_guest)
            await db_session.commit()
        if outcome.notify:
            await enqueue_notifications(request.app.state.redis)
        if outcome.state == "unknown":
            raise LinkError(expired=True)
        assert outcome.event is not None
        assert outcome.invitation is not None
        notices = {
            "yes": "Merci, votre participation est enregistrée. Une confirmation vous est envoyée par e-mail, "
            "avec le rendez-vous à ajouter à votre agenda.",
            "no": "Merci, votre réponse est enregistrée : vous ne participez pas.",
            "waiting": "L’événement est complet : vous êtes sur la liste d’attente. Nous vous écrirons dès "
            "qu’une place se libère.",
            "closed": "Les réponses sont closes pour cet événement : votre réponse n’a pas été modifiée.",
            "cancelled": "Cet événement est annulé.",
        }
        if outcome.state == "waiting" and outcome.seats_left:
            # Seats are free, just not enough for the party: the event is not full.
            free = "Il reste une place" if outcome.seats_left == 1 else f"Il reste {outcome.seats_left} places"
            notices["waiting"] = (
                f"{free}, pas assez pour vous et la personne qui vous accompagne : vous êtes sur la liste "
                "d’attente. Nous vous écrirons dès qu’il y aura assez de places."
            )
        if outcome.state == "no" and outcome.notify:
            notices["no"] += " Un message vous le confirme et retire le rendez-vous de votre agenda."
        notice = notices[outcome.state]
        if outcome.guest_never_fits:
            notice += (
                " La personne accompagnante ne peut pas être acceptée : l’événement ne compte pas assez de "
                "places pour venir à deux. Votre réponse vaut pour vous seul·e."
            )
        elif outcome.guest_refused:
            notice += " Il ne reste pas de place pour une personne accompagnante."
        if outcome.state in ("closed", "cancelled"):
            return _answer_page(
                request,
                token,
                outcome.event,
                outcome.invitation,
                person,
                preselect=None,
                notice=notice,
                notice_kind="error",
                status_code=409,
            )
        return _answer_page(request, token, outcome.event, outcome.invitation, person, preselect=None, notice=notice)
