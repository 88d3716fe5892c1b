"""Events: the message that confirms a no after a yes and removes the calendar entry.

Revision ID: 0007
Revises: 0006
Created: 2026-12-02 10:00:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Usable once the migration's transaction commits; nothing here needs it before.
    op.execute("ALTER TYPE event_notification_kind ADD VALUE IF NOT EXISTS 'declined' AFTER 'cancellation'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value: the type is made again without it. The messages of
    # that kind go with it (sent ones are history of a feature that no longer exists).
    op.execute("DELETE FROM event_notification WHERE kind::text = 'declined'")
    op.execute("ALTER TYPE event_notification_kind RENAME TO event_notification_kind_0007")
    op.execute(
        "CREATE TYPE event_notification_kind AS ENUM "
        "('confirmation', 'waiting', 'promoted', 'reminder', 'update', 'cancellation')"
    )
    op.execute(
        "ALTER TABLE event_notification ALTER COLUMN kind TYPE event_notification_kind "
        "USING kind::text::event_notification_kind"
    )
    op.execute("DROP TYPE event_notification_kind_0007")
