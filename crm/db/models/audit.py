from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column


class AuditEntry(UUIDv7Base):
    """Who did what to which record, and when (journal d'audit).

    `changes` names the fields that changed with their old and new values, except fields marked
    as secret on the model; the log is append-only, nothing in the application updates it."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity_type", "entity_id"),
        Index("ix_audit_log_occurred_at", "occurred_at"),
    )

    occurred_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), server_default=func.now())
    actor_type: Mapped[str] = mapped_column(String(20))  # staff, partner, contact, system
    actor_id: Mapped[UUID | None] = mapped_column(default=None)
    action: Mapped[str] = mapped_column(String(40))  # create, update, delete, login, send, export...
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[UUID | None] = mapped_column(default=None)
    changes: Mapped[dict | None] = mapped_column(JSONB, default=None)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
