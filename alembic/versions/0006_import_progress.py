"""Imports run in the worker: statuses while a check or an apply runs, progress, and the job that
holds the batch.

Revision ID: 0006
Revises: 0005
Created: 2026-11-30 10:15:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Usable once the migration's transaction commits; nothing here needs them before.
    op.execute("ALTER TYPE import_status ADD VALUE IF NOT EXISTS 'checking' BEFORE 'checked'")
    op.execute("ALTER TYPE import_status ADD VALUE IF NOT EXISTS 'applying' BEFORE 'applied'")
    op.add_column("import_batch", sa.Column("total", sa.Integer(), server_default="0", nullable=False))
    op.add_column("import_batch", sa.Column("processed", sa.Integer(), server_default="0", nullable=False))
    op.add_column(
        "import_batch",
        sa.Column("heartbeat_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
    )
    op.add_column("import_batch", sa.Column("run_token", sa.String(length=32), nullable=True))
    op.add_column("import_batch", sa.Column("requested_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True))
    op.execute("UPDATE import_batch SET total = jsonb_array_length(rows), processed = jsonb_array_length(rows)")


def downgrade() -> None:
    op.drop_column("import_batch", "requested_by")
    op.drop_column("import_batch", "run_token")
    op.drop_column("import_batch", "heartbeat_at")
    op.drop_column("import_batch", "processed")
    op.drop_column("import_batch", "total")
    # PostgreSQL cannot drop an enum value: the type is made again without them. A check that
    # never finished has no report to apply; an apply that never finished wrote nothing.
    op.execute("ALTER TYPE import_status RENAME TO import_status_0006")
    op.execute("CREATE TYPE import_status AS ENUM ('checked', 'applied', 'failed')")
    op.execute(
        "ALTER TABLE import_batch ALTER COLUMN status TYPE import_status USING "
        "(CASE status::text WHEN 'checking' THEN 'failed' WHEN 'applying' THEN 'checked' ELSE status::text END)"
        "::import_status"
    )
    op.execute("DROP TYPE import_status_0006")
