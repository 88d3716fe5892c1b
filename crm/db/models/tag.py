from __future__ import annotations

from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base


class Tag(Audited, Base):
    __tablename__ = "tag"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    color: Mapped[str | None] = mapped_column(String(20))


class Tagging(Audited, Base):
    """A tag on any record: `entity_type` is the record's table (organisation, person, convention...)."""

    __tablename__ = "tagging"
    __table_args__ = (
        UniqueConstraint("tag_id", "entity_type", "entity_id", name="uq_tagging"),
        Index("ix_tagging_entity", "entity_type", "entity_id"),
    )

    tag_id: Mapped[UUID] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[UUID] = mapped_column()
