"""Events: invitations sent without a campaign, and update messages that say what changed.

Revision ID: 0010
Revises: 0009
Created: 2026-12-02 01:40:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Usable once the migration's transaction commits; nothing here needs it before.
    op.execute("ALTER TYPE event_notification_kind ADD VALUE IF NOT EXISTS 'invitation' AFTER 'declined'")
    op.add_column("event_notification", sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("event_notification", "note")
    # PostgreSQL cannot drop an enum value: the type is made again without it, and the messages
    # of that kind go with it.
    op.execute("DELETE FROM event_notification WHERE kind::text = 'invitation'")
    op.execute("ALTER TYPE event_notification_kind RENAME TO event_notification_kind_0009")
    op.execute(
        "CREATE TYPE event_notification_kind AS ENUM "
        "('confirmation', 'waiting', 'promoted', 'reminder', 'update', 'cancellation', 'declined')"
    )
    op.execute(
        "ALTER TABLE event_notification ALTER COLUMN kind TYPE event_notification_kind "
        "USING kind::text::event_notification_kind"
    )
    op.execute("DROP TYPE event_notification_kind_0009")
