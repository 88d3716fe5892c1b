"""The board (bureau / conseil d'administration): roles and mandates."""

from __future__ import annotations

import enum
from datetime import date
from uuid import UUID

from sqlalchemy import CheckConstraint, ColumnElement, Date, ForeignKey, Index, and_, or_
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.conditions import condition
from crm.db.models.organisation import pg_enum


class BoardRole(enum.StrEnum):
    PRESIDENT = "president"  # président·e
    VICE_PRESIDENT = "vice_president"  # vice-président·e
    TREASURER = "treasurer"  # trésorier·e
    SECRETARY = "secretary"  # secrétaire
    MEMBER = "member"  # administrateur·rice


# A mandate running on `day` (today when not given), the one rule: its term includes its first and
# its last day, so the board on the day a term ends still counts that seat.
def _mandate_running_on(mandate: Mandate, day: date | None = None) -> bool:
    day = day or date.today()
    return mandate.term_start <= day and (mandate.term_end is None or mandate.term_end >= day)


def _mandate_running_on_sql(cls: type[Mandate], day: date | None = None) -> ColumnElement[bool]:
    day = day or date.today()
    return and_(cls.term_start <= day, or_(cls.term_end.is_(None), cls.term_end >= day))


class Mandate(Audited, Base):
    """A seat on the board (conseil d'administration), held by a person on behalf of an organisation."""

    __tablename__ = "mandate"
    __table_args__ = (
        CheckConstraint("term_end IS NULL OR term_end >= term_start", name="term_ordered"),
        Index("ix_mandate_term", "term_start", "term_end"),
    )

    person_id: Mapped[UUID] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"), index=True)
    organisation_id: Mapped[UUID] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    role: Mapped[BoardRole] = mapped_column(pg_enum(BoardRole, "board_role"))
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)

    # `mandate.running_on(day)` on a loaded row, `Mandate.running_on(day)` in a query.
    running_on = condition(_mandate_running_on, _mandate_running_on_sql)
