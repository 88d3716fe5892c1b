"""What comes back after sending (bounces, complaints: `bounce`), the DKIM key campaign mail may be
signed with (`dkim_key`), and the trace of each erasure (`erasure`).

Revision ID: 0018
Revises: 0017
Created: 2026-12-02 08:33:41.870768+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dkim_key",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("selector", sa.String(length=63), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dkim_key")),
    )
    op.create_table(
        "erasure",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("erased_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("staff_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_erasure_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure")),
        sa.UniqueConstraint("person_id", name=op.f("uq_erasure_person_id")),
    )
    op.create_table(
        "bounce",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("delivery_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("campaign_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.Enum("hard", "soft", "complaint", name="bounce_kind"), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=True),
        sa.Column("diagnostic", sa.Text(), nullable=True),
        sa.Column("reporter", sa.String(length=255), nullable=True),
        sa.Column("received_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_bounce_campaign_id_campaign"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["delivery.id"], name=op.f("fk_bounce_delivery_id_delivery"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_bounce_person_id_person"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounce")),
    )
    op.create_index("ix_bounce_campaign_kind", "bounce", ["campaign_id", "kind"], unique=False)
    op.create_index(op.f("ix_bounce_delivery_id"), "bounce", ["delivery_id"], unique=False)
    op.create_index("ix_bounce_email_hash_received", "bounce", ["email_hash", "received_at"], unique=False)
    op.create_index(op.f("ix_bounce_person_id"), "bounce", ["person_id"], unique=False)
    op.create_index("ix_bounce_review", "bounce", ["reviewed", "received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_bounce_review", table_name="bounce")
    op.drop_index(op.f("ix_bounce_person_id"), table_name="bounce")
    op.drop_index("ix_bounce_email_hash_received", table_name="bounce")
    op.drop_index(op.f("ix_bounce_delivery_id"), table_name="bounce")
    op.drop_index("ix_bounce_campaign_kind", table_name="bounce")
    op.drop_table("bounce")
    op.drop_table("erasure")
    op.drop_table("dkim_key")
    sa.Enum(name="bounce_kind").drop(op.get_bind(), checkfirst=True)
