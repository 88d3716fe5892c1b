"""Events (ceremony, congress, general assembly, webinar, workshop), the invitations people answer,
and the outbox of the single messages an event sends (confirmation, waiting list, reminders...).

An `event_notification` row is written in the same transaction as the change that calls for it
(an answer, a promotion from the waiting list, a staff edit, the reminder cron), unique per
(invitation, kind, sequence); workers lease the rows like deliveries. That is what makes each
message go out once, whatever the number of workers and restarts."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.models.organisation import pg_enum


class EventKind(enum.StrEnum):
    CEREMONY = "ceremony"  # cérémonie de remise du label
    CONGRESS = "congress"  # congrès des élus au numérique
    GENERAL_ASSEMBLY = "general_assembly"  # assemblée générale
    WEBINAR = "webinar"
    WORKSHOP = "workshop"  # atelier


class EventStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Event(Audited, Base):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_positive"),
        Index("ix_event_starts_at", "starts_at"),
    )

    kind: Mapped[EventKind] = mapped_column(pg_enum(EventKind, "event_kind"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    # Stored in UTC; entered and shown in Europe/Paris.
    starts_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    venue_name: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(Text)
    online_url: Mapped[str | None] = mapped_column(String(1000))
    # Seats, guests included; None: no limit.
    capacity: Mapped[int | None] = mapped_column(Integer)
    registration_deadline: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    guests_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[EventStatus] = mapped_column(pg_enum(EventStatus, "event_status"), default=EventStatus.SCHEDULED)
    # RFC 5545 SEQUENCE: raised on each change of date or place, so calendars replace the entry.
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0)


class InvitationStatus(enum.StrEnum):
    INVITED = "invited"  # no answer yet
    YES = "yes"
    NO = "no"
    WAITING = "waiting"  # said yes when the event was full: liste d'attente


class Invitation(Audited, Base):
    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("event_id", "person_id", name="uq_invitation_event_person"),
        Index("ix_invitation_event_status", "event_id", "status"),
    )

    event_id: Mapped[UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    person_id: Mapped[UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[UUID | None] = mapped_column(ForeignKey("campaign.id", ondelete="SET NULL"))
    status: Mapped[InvitationStatus] = mapped_column(
        pg_enum(InvitationStatus, "invitation_status"), default=InvitationStatus.INVITED
    )
    with_guest: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    first_opened_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    waiting_since: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class NotificationKind(enum.StrEnum):
    CONFIRMATION = "confirmation"
    WAITING = "waiting"
    PROMOTED = "promoted"  # a seat freed up: off the waiting list
    # `sequence` holds the number of days before the event, from the settings (7 and 1 by default).
    REMINDER = "reminder"
    UPDATE = "update"  # `sequence` is the event's ics_sequence after the change
    CANCELLATION = "cancellation"
    # A yes became a no: confirms the answer and removes the accepted calendar entry (METHOD:CANCEL).
    # `sequence` counts this invitation's declines (0, 1...), which the calendar SEQUENCE builds on.
    DECLINED = "declined"
    # An invitation sent by the event itself (to a segment or chosen people), not by a campaign.
    INVITATION = "invitation"


class NotificationStatus(enum.StrEnum):
    QUEUED = "queued"
    LEASED = "leased"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # no longer relevant when its turn came (the person said no since, say)


class EventNotification(Base):
    """One message of an event to one invitee. Not `Audited`: these rows are the log themselves."""

    __tablename__ = "event_notification"
    __table_args__ = (
        UniqueConstraint("invitation_id", "kind", "sequence", name="uq_event_notification_once"),
        Index("ix_event_notification_due", "next_attempt_at", postgresql_where=text("status = 'queued'")),
        Index("ix_event_notification_leased", "lease_expires_at", postgresql_where=text("status = 'leased'")),
    )

    invitation_id: Mapped[UUID] = mapped_column(ForeignKey("invitation.id", ondelete="CASCADE"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(pg_enum(NotificationKind, "event_notification_kind"))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[NotificationStatus] = mapped_column(
        pg_enum(NotificationStatus, "event_notification_status"), default=NotificationStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    leased_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    smtp_response: Mapped[str | None] = mapped_column(Text)
    # What an update changed, in French, written with the change (the old values are gone after).
    note: Mapped[str | None] = mapped_column(Text)
