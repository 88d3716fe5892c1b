"""Publications announced by e-mail."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Boolean, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.models.organisation import pg_enum


class PublicationKind(enum.StrEnum):
    REPORT = "report"  # rapport, étude
    SURVEY_RESULTS = "survey_results"  # résultats d'enquête
    GUIDE = "guide"
    MOTION = "motion"
    OTHER = "other"


class Publication(Audited, Base):
    """Something the association published; public ones appear on the archive page."""

    __tablename__ = "publication"

    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[PublicationKind] = mapped_column(pg_enum(PublicationKind, "publication_kind"))
    published_on: Mapped[date] = mapped_column(Date, index=True)
    url: Mapped[str | None] = mapped_column(String(1000))
    summary: Mapped[str | None] = mapped_column(Text)
    cover_image_url: Mapped[str | None] = mapped_column(String(1000))
    is_public: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
