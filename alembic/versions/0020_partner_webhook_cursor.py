"""Partner webhooks read the contact change log as a pull does: each partner's cursor holds the
horizon of its last round (crm/domain/partners/webhook_feed.py).

Revision ID: 0020
Revises: 0019
Created: 2026-12-02 09:55:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_webhook_cursor",
        sa.Column("organisation_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("horizon", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            advanced_alchemy.types.DateTimeUTC(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_partner_webhook_cursor_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_partner_webhook_cursor")),
    )


def downgrade() -> None:
    op.drop_table("partner_webhook_cursor")
