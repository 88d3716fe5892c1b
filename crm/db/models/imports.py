from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.models.organisation import pg_enum


class ImportStatus(enum.StrEnum):
    CHECKING = "checking"  # the dry run is queued or running in the worker
    CHECKED = "checked"  # dry run done: the report says what an apply would do
    APPLYING = "applying"  # the apply is queued or running in the worker
    APPLIED = "applied"
    FAILED = "failed"


class ImportBatch(Audited, Base):
    """A CSV file staff uploaded: its parsed rows, the dry-run report, and whether it was applied.

    The dry run and the apply run in the worker. While one runs, `processed` counts the rows done
    (out of `total`) and `heartbeat_at` says when the job last showed signs of life; `run_token`
    names the job that holds the batch, so that a job presumed dead cannot finish after another
    has taken over."""

    __tablename__ = "import_batch"
    # The rows are a whole file of personal data: the audit log says they changed, not what they hold.
    # Progress is not a change anyone needs to audit.
    __audit_exclude__ = frozenset({"rows", "report"})

    kind: Mapped[str] = mapped_column(String(20))  # organisations, people
    filename: Mapped[str] = mapped_column(String(300))
    status: Mapped[ImportStatus] = mapped_column(pg_enum(ImportStatus, "import_status"))
    encoding: Mapped[str] = mapped_column(String(20))
    delimiter: Mapped[str] = mapped_column(String(1))
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # While the first check runs, only what reading the file found (columns recognised and ignored).
    report: Mapped[dict[str, Any]] = mapped_column(JSONB)
    applied_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    processed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    run_token: Mapped[str | None] = mapped_column(String(32), default=None)
    # The staff member who asked for the running check or apply: the job acts on their behalf.
    requested_by: Mapped[UUID | None] = mapped_column(default=None)
