"""The platform's own mail (subscription confirmations, staff invitations) becomes outbox rows
that the sending engine leases like deliveries: written with the change that calls for it, it
survives a `kill -9` or a flushed Redis.

Revision ID: 0013
Revises: 0012
Created: 2026-12-02 05:00:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "system_message",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("subscription_confirmation", "staff_invitation", name="system_message_kind"),
            nullable=False,
        ),
        sa.Column("subject_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column(
            "payload", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column(
            "status",
            sa.Enum("queued", "leased", "sent", "failed", "skipped", name="system_message_status"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("lease_expires_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(length=100), nullable=True),
        sa.Column("sent_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("smtp_response", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_message")),
    )
    op.create_index(
        "ix_system_message_due",
        "system_message",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index(
        "ix_system_message_leased",
        "system_message",
        ["lease_expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'leased'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_system_message_leased", table_name="system_message", postgresql_where=sa.text("status = 'leased'")
    )
    op.drop_index("ix_system_message_due", table_name="system_message", postgresql_where=sa.text("status = 'queued'"))
    op.drop_table("system_message")
    op.execute("DROP TYPE system_message_status")
    op.execute("DROP TYPE system_message_kind")
