"""The public archive's copy of a campaign, rendered once when the send starts.

Revision ID: 0009
Revises: 0008
Created: 2026-12-02 02:00:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Campaigns sent before this get their copy on their first archive visit.
    op.add_column("campaign", sa.Column("archive_html", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("campaign", "archive_html")
