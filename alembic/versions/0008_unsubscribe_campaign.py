"""Which campaign's link a person left a list through, so that the campaign's progress counts it.

Revision ID: 0008
Revises: 0007
Created: 2026-12-02 10:00:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "subscription",
        sa.Column("unsubscribed_via_campaign_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
    )
    op.create_foreign_key(
        op.f("fk_subscription_unsubscribed_via_campaign_id_campaign"),
        "subscription",
        "campaign",
        ["unsubscribed_via_campaign_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        op.f("ix_subscription_unsubscribed_via_campaign_id"),
        "subscription",
        ["unsubscribed_via_campaign_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_subscription_unsubscribed_via_campaign_id"), table_name="subscription")
    op.drop_constraint(
        op.f("fk_subscription_unsubscribed_via_campaign_id_campaign"), "subscription", type_="foreignkey"
    )
    op.drop_column("subscription", "unsubscribed_via_campaign_id")
