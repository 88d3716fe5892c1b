"""The platform's own mail (confirmations of subscriptions, staff invitations) as outbox rows.

A `system_message` row is written in the transaction of the change that calls for it (a pending
subscription, an invitation), so the message survives a `kill -9` or a flushed Redis as campaign
deliveries and event messages do; workers lease the rows like deliveries (crm.domain.outbox). The
message is rendered when its turn comes, from what is stored then. Not `Audited`: these rows are
the log themselves."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Base
from crm.db.models.organisation import pg_enum


class SystemMessageKind(enum.StrEnum):
    SUBSCRIPTION_CONFIRMATION = "subscription_confirmation"  # double opt-in: one per person
    STAFF_INVITATION = "staff_invitation"
    # Questionnaires: `subject_id` is the recipient (invitation, reminder), the response (copy of
    # the answers), the jury member (jury link); the payload names the person written to.
    QUESTIONNAIRE_INVITATION = "questionnaire_invitation"
    QUESTIONNAIRE_REMINDER = "questionnaire_reminder"
    QUESTIONNAIRE_RECEIPT = "questionnaire_receipt"
    LABEL_RESULT = "label_result"
    JURY_INVITATION = "jury_invitation"


class SystemMessageStatus(enum.StrEnum):
    QUEUED = "queued"
    LEASED = "leased"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # no longer relevant when its turn came (the invitation was used, say)


class SystemMessage(Base):
    __tablename__ = "system_message"
    __table_args__ = (
        Index("ix_system_message_due", "next_attempt_at", postgresql_where=text("status = 'queued'")),
        Index("ix_system_message_leased", "lease_expires_at", postgresql_where=text("status = 'leased'")),
    )

    kind: Mapped[SystemMessageKind] = mapped_column(pg_enum(SystemMessageKind, "system_message_kind"))
    # What the message is about: the staff invitation, or the person asked to confirm.
    subject_id: Mapped[UUID]
    # The subscriptions a confirmation names.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    status: Mapped[SystemMessageStatus] = mapped_column(
        pg_enum(SystemMessageStatus, "system_message_status"), default=SystemMessageStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    leased_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    smtp_response: Mapped[str | None] = mapped_column(Text)
