"""The yearly label's awards."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base


class LabelAward(Audited, Base):
    """A city's label for a year: 1 to 5 "@" (arobases), and whether it got the green "@"."""

    __tablename__ = "label_award"
    __table_args__ = (
        UniqueConstraint("organisation_id", "year", name="uq_label_award_organisation_year"),
        CheckConstraint("level BETWEEN 1 AND 5", name="level_1_to_5"),
        Index("ix_label_award_year_level", "year", "level"),
    )

    organisation_id: Mapped[UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    green: Mapped[bool] = mapped_column(Boolean, default=False)
