"""Segments: saved audience rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base


class Segment(Audited, Base):
    """A saved filter over the CRM (and / or / not of rules), evaluated live when used."""

    __tablename__ = "segment"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
