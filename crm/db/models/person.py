from __future__ import annotations

import enum
from datetime import date
from uuid import UUID

from sqlalchemy import CheckConstraint, ColumnElement, Computed, Date, ForeignKey, Index, String, Text, and_, or_
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.conditions import condition
from crm.db.models.organisation import SEARCH_FUNCTION, pg_enum


class Person(Audited, Base):
    """A contact (acteur): an elected official or a staff member of an organisation."""

    __tablename__ = "person"
    __table_args__ = (
        # Entries go straight into the index (migration 0009): no pending list for searches to read.
        Index(
            "ix_person_search",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
        ),
        Index("ix_person_last_first", "last_name", "first_name"),
    )

    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # Normalised (lower case) at the edge; unique where present.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5), default="fr")
    notes: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(
        Text,
        Computed(f"{SEARCH_FUNCTION}(first_name || ' ' || last_name || ' ' || coalesce(email, ''))", persisted=True),
    )


class PositionKind(enum.StrEnum):
    ELECTED = "elected"  # élu·e: maire, adjoint·e, conseiller·e
    STAFF = "staff"  # agent: DGS, DSI, chargé·e de communication


# A *current* position, the one rule: held on `day` (today when not given) when it started on or
# before that day, or has no known start, and has not ended. On the day it ended it is over, so a job
# change ends the old position and starts the new one on the same day without the two overlapping;
# one that starts tomorrow is not current yet. Written twice only because Python and SQL say it
# differently; tests/test_current_rules.py checks both agree on the edge days.
def _position_held_on(position: Position, day: date | None = None) -> bool:
    day = day or date.today()
    return (position.started_on is None or position.started_on <= day) and (
        position.ended_on is None or position.ended_on > day
    )


def _position_held_on_sql(cls: type[Position], day: date | ColumnElement[date] | None = None) -> ColumnElement[bool]:
    # A SQL day (`func.current_date()`) serves queries written once and run on many days.
    day = date.today() if day is None else day
    return and_(
        or_(cls.started_on.is_(None), cls.started_on <= day),
        or_(cls.ended_on.is_(None), cls.ended_on > day),
    )


class Position(Audited, Base):
    """A person's role in an organisation over a period; a job change ends one and starts another."""

    __tablename__ = "position"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR started_on IS NULL OR ended_on >= started_on", name="dates_ordered"),
        Index("ix_position_organisation", "organisation_id", "ended_on"),
        # "Holds a current position of this kind", answered from the index for each person found.
        Index("ix_position_person_kind", "person_id", "kind", postgresql_include=["started_on", "ended_on"]),
    )

    person_id: Mapped[UUID] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"))
    organisation_id: Mapped[UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PositionKind] = mapped_column(pg_enum(PositionKind, "position_kind"))
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)

    # `position.held_on(day)` on a loaded row, `Position.held_on(day)` in a query: one rule, below.
    held_on = condition(_position_held_on, _position_held_on_sql)
