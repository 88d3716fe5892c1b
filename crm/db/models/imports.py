from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.models.organisation import pg_enum


class ImportStatus(enum.StrEnum):
    CHECKED = "checked"  # dry run done: the report says what an apply would do
    APPLIED = "applied"
    FAILED = "failed"


class ImportBatch(Audited, Base):
    """A CSV file staff uploaded: its parsed rows, the dry-run report, and whether it was applied."""

    __tablename__ = "import_batch"
    # The rows are a whole file of personal data: the audit log says they changed, not what they hold.
    __audit_exclude__ = frozenset({"rows", "report"})

    kind: Mapped[str] = mapped_column(String(20))  # organisations, people
    filename: Mapped[str] = mapped_column(String(300))
    status: Mapped[ImportStatus] = mapped_column(pg_enum(ImportStatus, "import_status"))
    encoding: Mapped[str] = mapped_column(String(20))
    delimiter: Mapped[str] = mapped_column(String(1))
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    report: Mapped[dict[str, Any]] = mapped_column(JSONB)
    applied_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
