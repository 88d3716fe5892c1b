"""Personal-data rights: the trace an erasure leaves (who asked it and when, no personal data)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Base


class Erasure(Base):
    """A person erased: their row stays, anonymised, so that what must be kept (a board seat, dues,
    a campaign's figures) still points somewhere; this row says it was erased and why."""

    __tablename__ = "erasure"

    person_id: Mapped[UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    erased_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    # "request" (the person asked, art. 17) or "retention" (the purge of inactive prospects).
    reason: Mapped[str] = mapped_column(String(20))
    staff_id: Mapped[UUID | None] = mapped_column(default=None)
