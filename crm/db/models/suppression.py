"""The suppression list: addresses that must never be mailed again."""

from __future__ import annotations

import enum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.models.organisation import pg_enum


class SuppressionReason(enum.StrEnum):
    UNSUBSCRIBED_ALL = "unsubscribed_all"
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"  # marked as spam
    ERASED = "erased"  # right to erasure: the address is gone, only its hash remains
    MANUAL = "manual"


class Suppression(Audited, Base):
    """An address that must never be written to again. Only its SHA-256 is kept, so that the list
    survives the erasure of the person it protects."""

    __tablename__ = "suppression"

    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[SuppressionReason] = mapped_column(pg_enum(SuppressionReason, "suppression_reason"))
    note: Mapped[str | None] = mapped_column(Text)
