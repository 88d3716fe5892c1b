"""Events: the staff side (create, change, cancel, attendance, figures) and the rules of answers
(capacity, waiting list, deadline) that the public answer page calls.

Every answer takes a row lock on its event first (SELECT ... FOR UPDATE), so answers to one event
are decided one at a time: two people taking the last seat at the same instant cannot both get
it, and a seat freed by a "no" goes to the first person waiting in the same transaction. The
messages these changes call for are written to `event_notification` in that transaction too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from sqlalchemy import Text, case, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from crm.db.audit_listener import record
from crm.db.models.campaign import Campaign
from crm.db.models.event import (
    Event,
    EventNotification,
    EventStatus,
    Invitation,
    InvitationStatus,
    NotificationKind,
    NotificationStatus,
)
from crm.db.models.organisation import Organisation
from crm.db.models.person import Person, Position
from crm.domain.events.display import paris, place
from crm.lib import frenchdates
from crm.lib.listing import ListQuery
from crm.lib.problems import ProblemError, field_error, invalid
from crm.lib.search import person_matches, text_matches
from crm.lib.services import Service

# A change of any of these is a change of date or place: calendars get an update.
PLACE_FIELDS = ("starts_at", "ends_at", "venue_name", "address", "online_url")
UNIQUE_NOTIFICATION = "uq_event_notification_once"


def seats(invitation: Any) -> int:
    return 2 if invitation.with_guest else 1


def _seats_sql() -> Any:
    return func.coalesce(func.sum(case((Invitation.with_guest, 2), else_=1)), 0)


async def lock_event(session: AsyncSession, event_id: UUID) -> Event | None:
    # populate_existing: what the session read before the lock (the answer page loads the event and
    # the invitation first) is read again under it, or a double click would decide on stale rows.
    return await session.scalar(
        select(Event).where(Event.id == event_id).with_for_update().execution_options(populate_existing=True)
    )


async def seats_taken(session: AsyncSession, event_id: UUID) -> int:
    taken = await session.scalar(
        select(_seats_sql()).where(Invitation.event_id == event_id, Invitation.status == InvitationStatus.YES)
    )
    return int(taken or 0)


async def queue_notification(
    session: AsyncSession, invitation_id: UUID, kind: NotificationKind, sequence: int | None = None
) -> None:
    """One message to one invitee. Without `sequence`, the next one of its kind: a person who says
    yes, no, then yes again is confirmed twice. The caller holds the invitation's event lock."""
    if sequence is None:
        last = await session.scalar(
            select(func.max(EventNotification.sequence)).where(
                EventNotification.invitation_id == invitation_id, EventNotification.kind == kind
            )
        )
        sequence = 0 if last is None else last + 1
    now = datetime.now(UTC)
    await session.execute(
        pg_insert(EventNotification)
        .values(
            id=uuid7(),
            invitation_id=invitation_id,
            kind=kind,
            sequence=sequence,
            status=NotificationStatus.QUEUED,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(constraint=UNIQUE_NOTIFICATION)
    )


async def queue_for_answers(
    session: AsyncSession,
    event_id: UUID,
    statuses: Sequence[InvitationStatus],
    kind: NotificationKind,
    sequence: int,
    note: str | None = None,
    only: Sequence[UUID] | None = None,
) -> int:
    """The same message to everyone of an event whose answer is one of `statuses`, once
    (INSERT ... SELECT ... ON CONFLICT DO NOTHING: safe to run twice, on several workers)."""
    now = datetime.now(UTC)
    rows = select(
        func.gen_random_uuid(),
        Invitation.id,
        literal(kind.value).cast(EventNotification.__table__.c.kind.type),
        literal(sequence),
        literal(NotificationStatus.QUEUED.value).cast(EventNotification.__table__.c.status.type),
        literal(0),
        literal(now),
        literal(now),
        literal(now),
        literal(note, Text),
    ).where(Invitation.event_id == event_id, Invitation.status.in_(list(statuses)))
    if only is not None:
        from crm.domain.lists.services import one_of

        rows = rows.where(one_of(Invitation.id, only))
    columns = [
        "id",
        "invitation_id",
        "kind",
        "sequence",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "updated_at",
        "note",
    ]
    result = await session.execute(
        pg_insert(EventNotification).from_select(columns, rows).on_conflict_do_nothing(constraint=UNIQUE_NOTIFICATION)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def what_changed(before: dict[str, Any], event: Event) -> str:
    """The sentence an update message opens with: each new value beside the one it replaces."""
    parts = []
    if (before["starts_at"], before["ends_at"]) != (event.starts_at, event.ends_at):
        old = frenchdates.span(before["starts_at"], before["ends_at"])
        parts.append(f"Nouvelle date : {frenchdates.span(event.starts_at, event.ends_at)} (au lieu de : {old}).")
    old_place = place(SimpleNamespace(**before))
    if (before["venue_name"], before["address"]) != (event.venue_name, event.address):
        parts.append(f"Nouveau lieu : {place(event)} (au lieu de : {old_place}).")
    if before["online_url"] != event.online_url:
        parts.append(f"Nouveau lien : {event.online_url}." if event.online_url else "Il n’y a plus de lien en ligne.")
    return " ".join(parts)


def guest_can_never_fit(event: Event) -> bool:
    """A capacity of one seat (or none) never holds a party of two: such a yes is taken alone."""
    return event.capacity is not None and event.capacity < 2


async def promote(session: AsyncSession, event: Event, now: datetime) -> list[Invitation]:
    """Gives free seats to the people waiting, in waiting order, to each one the seats fit: a party
    of two that does not fit does not keep a single seat empty for the next person who fits (it
    keeps its rank for the next seats). A waiting party of two that the capacity can never hold
    is taken alone, as a new answer would be. Queues each promoted person's message."""
    if event.status != EventStatus.SCHEDULED:
        return []
    waiting = (
        await session.scalars(
            select(Invitation)
            .where(Invitation.event_id == event.id, Invitation.status == InvitationStatus.WAITING)
            .order_by(Invitation.waiting_since, Invitation.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()
    taken = await seats_taken(session, event.id)
    promoted = []
    for invitation in waiting:
        if event.capacity is not None and taken >= event.capacity:
            break
        if invitation.with_guest and guest_can_never_fit(event):
            invitation.with_guest = False
        if event.capacity is not None and taken + seats(invitation) > event.capacity:
            continue
        invitation.status = InvitationStatus.YES
        invitation.waiting_since = None
        taken += seats(invitation)
        promoted.append(invitation)
    await session.flush()
    for invitation in promoted:
        await queue_notification(session, invitation.id, NotificationKind.PROMOTED)
    return promoted


@dataclass
class Outcome:
    """What an answer came to, for the page that tells the person."""

    state: str  # yes, no, waiting, closed, cancelled, unknown
    event: Event | None = None
    invitation: Invitation | None = None
    guest_refused: bool = False
    # The guest was refused for good: the capacity can never hold a party of two.
    guest_never_fits: bool = False
    # Seats still free after the answer (None: no limit), so that a page never says "full" wrongly.
    seats_left: int | None = None
    notify: bool = False
    promoted: list[UUID] = field(default_factory=list)


def answers_closed(event: Event, now: datetime) -> bool:
    deadline = event.registration_deadline or event.starts_at
    return now > deadline or now >= event.starts_at


async def answer(
    session: AsyncSession, event_id: UUID, person_id: UUID, *, yes: bool, with_guest: bool, now: datetime | None = None
) -> Outcome:
    """Records a yes or a no, within the event's capacity, before its deadline."""
    now = now or datetime.now(UTC)
    event = await lock_event(session, event_id)
    if event is None:
        return Outcome("unknown")
    invitation = await session.scalar(
        select(Invitation)
        .where(Invitation.event_id == event_id, Invitation.person_id == person_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if invitation is None:
        return Outcome("unknown", event)
    if event.status == EventStatus.CANCELLED:
        return Outcome("cancelled", event, invitation)
    if answers_closed(event, now):
        return Outcome("closed", event, invitation)
    outcome = Outcome("", event, invitation)
    invitation.first_opened_at = invitation.first_opened_at or now
    guest = with_guest and event.guests_allowed
    if guest and guest_can_never_fit(event):
        # Waiting for a seat pair that can never exist would be waiting forever: taken alone.
        guest = False
        outcome.guest_refused = outcome.guest_never_fits = True
    before = invitation.status
    if not yes:
        changed = before != InvitationStatus.NO
        invitation.status = InvitationStatus.NO
        invitation.with_guest = False
        invitation.waiting_since = None
        if changed:
            invitation.answered_at = now
        await session.flush()
        if before == InvitationStatus.YES:
            # Their calendar holds the accepted entry: the message confirming the no removes it.
            await queue_notification(session, invitation.id, NotificationKind.DECLINED)
            outcome.promoted = [i.id for i in await promote(session, event, now)]
            outcome.notify = True
        outcome.state = "no"
        return await _with_seats_left(session, outcome)

    taken = await seats_taken(session, event_id)
    if before == InvitationStatus.YES:
        # Already coming: only the guest may change, if there is a seat for them.
        others = taken - seats(invitation)
        if guest and event.capacity is not None and others + 2 > event.capacity:
            outcome.guest_refused = not invitation.with_guest
            guest = invitation.with_guest
        if guest != invitation.with_guest:
            invitation.with_guest = guest
            invitation.answered_at = now
            await session.flush()
            if not guest:
                outcome.promoted = [i.id for i in await promote(session, event, now)]
        outcome.state = "yes"
        outcome.notify = bool(outcome.promoted)
        return await _with_seats_left(session, outcome)

    # A seat goes to whoever it fits: people waiting for more seats than are free do not keep
    # them empty (they keep their rank for the seats that free up later).
    need = 2 if guest else 1
    fits = event.capacity is None or taken + need <= event.capacity
    if fits:
        invitation.status = InvitationStatus.YES
        invitation.with_guest = guest
        invitation.waiting_since = None
        invitation.answered_at = now
        await session.flush()
        await queue_notification(session, invitation.id, NotificationKind.CONFIRMATION)
        outcome.state = "yes"
    else:
        invitation.with_guest = guest
        invitation.answered_at = now
        if before != InvitationStatus.WAITING:
            invitation.status = InvitationStatus.WAITING
            invitation.waiting_since = now
            await session.flush()
            await queue_notification(session, invitation.id, NotificationKind.WAITING)
        outcome.state = "waiting"
    outcome.notify = True
    return await _with_seats_left(session, outcome)


async def _with_seats_left(session: AsyncSession, outcome: Outcome) -> Outcome:
    event = outcome.event
    assert event is not None
    if event.capacity is not None:
        await session.flush()
        outcome.seats_left = max(event.capacity - await seats_taken(session, event.id), 0)
    return outcome


async def mark_opened(session: AsyncSession, event_id: UUID, person_id: UUID) -> None:
    await session.execute(
        update(Invitation)
        .where(Invitation.event_id == event_id, Invitation.person_id == person_id, Invitation.first_opened_at.is_(None))
        .values(first_opened_at=datetime.now(UTC))
    )


INVITATION_SORT = {
    "last_name": Person.last_name,
    "status": Invitation.status,
    "answered_at": Invitation.answered_at,
    "checked_in_at": Invitation.checked_in_at,
    "created_at": Invitation.created_at,
    "waiting_since": Invitation.waiting_since,
}


class EventService(Service[Event]):
    @staticmethod
    def _check(values: dict[str, Any]) -> None:
        if values["ends_at"] <= values["starts_at"]:
            raise invalid("ends_at", "must be after starts_at")
        deadline = values.get("registration_deadline")
        if deadline is not None and deadline > values["ends_at"]:
            raise invalid("registration_deadline", "must be before the event ends")

    @staticmethod
    def _plain(values: dict[str, Any]) -> dict[str, Any]:
        if values.get("online_url") is not None:
            values["online_url"] = str(values["online_url"])
        for key in ("title", "venue_name", "address", "description"):
            if isinstance(values.get(key), str) and not values[key].strip() and key != "title":
                values[key] = None
        return values

    async def create_event(self, values: dict[str, Any]) -> Event:
        values = self._plain(values)
        self._check(values)
        return await self.create(Event(**values, status=EventStatus.SCHEDULED, ics_sequence=0))

    async def _locked(self, event_id: UUID) -> Event:
        event = await lock_event(self.session, event_id)
        if event is None:
            raise ProblemError(404, "No such event")
        return event

    async def update_event(self, event_id: UUID, changes: dict[str, Any]) -> tuple[Event, int]:
        """Returns the event and how many messages the change queued."""
        event = await self._locked(event_id)
        if event.status == EventStatus.CANCELLED:
            raise ProblemError(409, "A cancelled event cannot change", errors=[field_error("status", "is cancelled")])
        changes = self._plain(changes)
        for required in ("kind", "title", "starts_at", "ends_at", "guests_allowed"):
            if required in changes and changes[required] is None:
                raise invalid(required, "cannot be empty")
        merged = {
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
            "registration_deadline": event.registration_deadline,
        } | {k: v for k, v in changes.items() if k in ("starts_at", "ends_at", "registration_deadline")}
        self._check(merged)
        moved = any(key in changes and changes[key] != getattr(event, key) for key in PLACE_FIELDS)
        before = {key: getattr(event, key) for key in PLACE_FIELDS}
        capacity_changed = "capacity" in changes and changes["capacity"] != event.capacity
        self.apply(event, changes)
        queued = 0
        if moved:
            event.ics_sequence += 1
        await self.session.flush()
        if moved:
            # The waiting list hears of it too: they may still get a seat, at the new date or place.
            queued = await queue_for_answers(
                self.session,
                event.id,
                [InvitationStatus.YES, InvitationStatus.WAITING],
                NotificationKind.UPDATE,
                event.ics_sequence,
                note=what_changed(before, event),
            )
        if capacity_changed:
            queued += len(await promote(self.session, event, datetime.now(UTC)))
        return event, queued

    async def cancel(self, event_id: UUID) -> Event:
        event = await self._locked(event_id)
        if event.status == EventStatus.CANCELLED:
            raise ProblemError(409, "The event is already cancelled", errors=[field_error("status", "is cancelled")])
        event.status = EventStatus.CANCELLED
        event.ics_sequence += 1
        await self.session.flush()
        await queue_for_answers(
            self.session,
            event.id,
            [InvitationStatus.YES, InvitationStatus.WAITING],
            NotificationKind.CANCELLATION,
            event.ics_sequence,
        )
        return event

    async def invite_many(
        self, event_id: UUID, *, segment_id: UUID | None, person_ids: list[UUID], emails: list[str]
    ) -> dict[str, Any]:
        """Invites a segment, people and addresses without a list: each gets an invitation and its
        e-mail (with the answer buttons), once; suppressed addresses are left out and named. One
        audit entry. The caller commits, then wakes the event-message job."""
        from crm.db.models.suppression import Suppression
        from crm.domain.lists.services import SQL_EMAIL_HASH, one_of, resolve_people

        event = await self._locked(event_id)
        if event.status == EventStatus.CANCELLED:
            raise ProblemError(409, "The event is cancelled", errors=[field_error("status", "is cancelled")])
        if answers_closed(event, datetime.now(UTC)):
            raise ProblemError(
                409, "Answers to this event are closed", errors=[field_error("registration_deadline", "is past")]
            )
        found = await resolve_people(self.session, segment_id, person_ids, emails)
        rows = (
            await self.session.execute(
                select(
                    Person.id,
                    Person.email,
                    select(Suppression.id).where(Suppression.email_hash == SQL_EMAIL_HASH).exists(),
                    Invitation.id,
                )
                .outerjoin(Invitation, (Invitation.person_id == Person.id) & (Invitation.event_id == event_id))
                .where(one_of(Person.id, found.ids))
            )
        ).all()
        no_email = already = 0
        suppressed: list[str] = []
        to_invite: list[UUID] = []
        for person_id, email, is_suppressed, invitation_id in rows:
            if not email:
                no_email += 1
            elif is_suppressed:
                suppressed.append(email)
            elif invitation_id is not None:
                already += 1
            else:
                to_invite.append(person_id)
        invited: list[UUID] = []
        if to_invite:
            now = datetime.now(UTC)
            values = select(
                func.gen_random_uuid(),
                literal(event_id),
                Person.id,
                literal(InvitationStatus.INVITED.value).cast(Invitation.__table__.c.status.type),
                literal(False),
                literal(now),
                literal(now),
            ).where(one_of(Person.id, to_invite))
            result = await self.session.execute(
                pg_insert(Invitation)
                .from_select(
                    ["id", "event_id", "person_id", "status", "with_guest", "created_at", "updated_at"], values
                )
                .on_conflict_do_nothing(constraint="uq_invitation_event_person")
                .returning(Invitation.id)
            )
            invited = list(result.scalars())
            await queue_for_answers(
                self.session, event_id, [InvitationStatus.INVITED], NotificationKind.INVITATION, 0, only=invited
            )
        counts: dict[str, Any] = {
            "invited": len(invited),
            "already": already + len(to_invite) - len(invited),
            "suppressed": sorted(suppressed),
            "no_email": no_email,
            "unknown_person_ids": found.unknown_ids,
            "unknown_emails": found.unknown_emails,
            "invalid_emails": found.invalid_emails,
        }
        record(
            self.session,
            "invite_many",
            "event",
            event_id,
            segment_id=segment_id,
            people_given=len(person_ids),
            emails_given=len(emails),
            **{k: (len(v) if isinstance(v, list) else v) for k, v in counts.items()},
        )
        await self.session.flush()
        return counts

    async def delete_event(self, event_id: UUID) -> None:
        await self.get(event_id)
        if await self.session.scalar(select(func.count()).where(Invitation.event_id == event_id)):
            raise ProblemError(
                409,
                "Invitations were sent for this event: cancel it instead",
                errors=[field_error("id", "has invitations")],
            )
        if await self.session.scalar(select(func.count()).where(Campaign.event_id == event_id)):
            raise ProblemError(
                409,
                "Invitations were sent for this event: cancel it instead",
                errors=[field_error("id", "has invitation campaigns")],
            )
        await self.delete(event_id)

    async def search(
        self,
        query: ListQuery,
        sortable: frozenset[str],
        *,
        kind: str | None,
        status: EventStatus | None,
        upcoming: bool | None,
    ) -> tuple[Sequence[Event], int]:
        conditions: list[Any] = []
        if kind:
            conditions.append(Event.kind == kind)
        if status:
            conditions.append(Event.status == status)
        if upcoming is not None:
            now = datetime.now(UTC)
            conditions.append(Event.ends_at >= now if upcoming else Event.ends_at < now)
        if query.q:
            conditions.append(text_matches(Event.title, query.q))
        return await self.get_many_and_count(*query.filters(sortable, "starts_at"), *conditions)

    async def figures(self, event_ids: Sequence[UUID]) -> dict[UUID, dict[str, int]]:
        rows = await self.session.execute(
            select(
                Invitation.event_id,
                func.count(),
                func.count(Invitation.first_opened_at),
                func.count().filter(Invitation.status == InvitationStatus.YES),
                func.count().filter(Invitation.status == InvitationStatus.NO),
                func.count().filter(Invitation.status == InvitationStatus.WAITING),
                func.count(Invitation.checked_in_at),
                func.coalesce(
                    func.sum(case((Invitation.with_guest, 2), else_=1)).filter(
                        Invitation.status == InvitationStatus.YES
                    ),
                    0,
                ),
            )
            .where(Invitation.event_id.in_(list(event_ids)))
            .group_by(Invitation.event_id)
        )
        names = ("invited", "opened", "yes", "no", "waiting", "attended", "seats_taken")
        result = {event_id: dict.fromkeys(names, 0) for event_id in event_ids}
        for event_id, *counts in rows:
            result[event_id] = {name: int(count) for name, count in zip(names, counts, strict=True)}
        return result

    # ---- invitations and attendance -------------------------------------------------------

    async def invitations(
        self,
        event_id: UUID,
        query: ListQuery,
        *,
        status: InvitationStatus | None,
        checked_in: bool | None,
    ) -> tuple[list[dict[str, Any]], int]:
        await self.get(event_id)
        conditions: list[Any] = [Invitation.event_id == event_id]
        if status:
            conditions.append(Invitation.status == status)
        if checked_in is not None:
            conditions.append(
                Invitation.checked_in_at.is_not(None) if checked_in else Invitation.checked_in_at.is_(None)
            )
        if query.q:
            conditions.append(person_matches(Invitation.person_id, query.q))
        sort = query.sort or "last_name"
        column = INVITATION_SORT.get(sort.lstrip("-"))
        if column is None:
            raise invalid(
                "sort", f"cannot sort on {sort.lstrip('-')!r}; choose one of {', '.join(sorted(INVITATION_SORT))}"
            )
        order = column.desc() if sort.startswith("-") else column.asc()
        base = select(Invitation, Person.first_name, Person.last_name, Person.email).join(
            Person, Person.id == Invitation.person_id
        )
        total = await self.session.scalar(
            select(func.count())
            .select_from(Invitation)
            .join(Person, Person.id == Invitation.person_id)
            .where(*conditions)
        )
        rows = (
            await self.session.execute(
                base.where(*conditions)
                .order_by(order, Person.first_name, Invitation.id)
                .limit(query.limit)
                .offset(query.offset)
            )
        ).all()
        return [self._invitation(inv, first, last, email) for inv, first, last, email in rows], int(total or 0)

    @staticmethod
    def _invitation(invitation: Invitation, first: str, last: str, email: str | None) -> dict[str, Any]:
        return {
            "id": invitation.id,
            "event_id": invitation.event_id,
            "person_id": invitation.person_id,
            "first_name": first,
            "last_name": last,
            "email": email,
            "campaign_id": invitation.campaign_id,
            "status": invitation.status,
            "with_guest": invitation.with_guest,
            "answered_at": invitation.answered_at,
            "first_opened_at": invitation.first_opened_at,
            "waiting_since": invitation.waiting_since,
            "checked_in_at": invitation.checked_in_at,
        }

    async def check_in(self, event_id: UUID, invitation_id: UUID, *, present: bool) -> dict[str, Any]:
        invitation = await self.session.scalar(
            select(Invitation).where(Invitation.id == invitation_id, Invitation.event_id == event_id).with_for_update()
        )
        if invitation is None:
            raise ProblemError(404, "No such invitation for this event")
        if present and invitation.checked_in_at is None:
            invitation.checked_in_at = datetime.now(UTC)
        elif not present:
            invitation.checked_in_at = None
        await self.session.flush()
        person = await self.session.get(Person, invitation.person_id)
        assert person is not None
        return self._invitation(invitation, person.first_name, person.last_name, person.email)

    async def participants(self, event_id: UUID) -> tuple[Event, list[Any]]:
        """Everyone who said yes or came, with their current organisation; the export is audited."""
        event = await self.get(event_id)
        organisation = (
            select(Organisation.name)
            .join(Position, Position.organisation_id == Organisation.id)
            .where(
                Position.person_id == Person.id,
                Position.held_on(),
            )
            .order_by(Position.started_on.desc().nulls_last(), Organisation.name)
            .limit(1)
            .correlate(Person)
            .scalar_subquery()
        )
        rows = (
            await self.session.execute(
                select(
                    Person.last_name,
                    Person.first_name,
                    Person.email,
                    organisation,
                    Invitation.status,
                    Invitation.with_guest,
                    Invitation.answered_at,
                    Invitation.checked_in_at,
                )
                .join(Person, Person.id == Invitation.person_id)
                .where(
                    Invitation.event_id == event_id,
                    or_(Invitation.status == InvitationStatus.YES, Invitation.checked_in_at.is_not(None)),
                )
                .order_by(Person.last_name, Person.first_name, Person.id)
            )
        ).all()
        record(self.session, "export", "event", event_id, what="participants", rows=len(rows))
        return event, list(rows)

    # ---- a person's and a member's events -------------------------------------------------

    async def attendance(
        self, query: ListQuery, *, person_id: UUID | None = None, organisation_id: UUID | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        conditions: list[Any] = []
        if person_id is not None:
            if await self.session.get(Person, person_id) is None:
                raise ProblemError(404, "No such person")
            conditions.append(Invitation.person_id == person_id)
        if organisation_id is not None:
            if await self.session.get(Organisation, organisation_id) is None:
                raise ProblemError(404, "No such organisation")
            current = select(Position.person_id).where(
                Position.organisation_id == organisation_id,
                Position.held_on(),
            )
            conditions.append(Invitation.person_id.in_(current))
        joined = (
            select(Invitation, Event, Person.first_name, Person.last_name)
            .join(Event, Event.id == Invitation.event_id)
            .join(Person, Person.id == Invitation.person_id)
            .where(*conditions)
        )
        total = await self.session.scalar(select(func.count()).select_from(Invitation).where(*conditions))
        rows = (
            await self.session.execute(
                joined.order_by(Event.starts_at.desc(), Person.last_name, Invitation.id)
                .limit(query.limit)
                .offset(query.offset)
            )
        ).all()
        items = [
            {
                "event_id": event.id,
                "title": event.title,
                "kind": event.kind,
                "starts_at": event.starts_at,
                "starts_at_paris": paris(event.starts_at),
                "event_status": event.status,
                "invitation_id": invitation.id,
                "person_id": invitation.person_id,
                "person_name": f"{first} {last}".strip(),
                "status": invitation.status,
                "with_guest": invitation.with_guest,
                "answered_at": invitation.answered_at,
                "checked_in_at": invitation.checked_in_at,
            }
            for invitation, event, first, last in rows
        ]
        return items, int(total or 0)
