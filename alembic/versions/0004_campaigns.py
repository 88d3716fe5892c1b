"""Campaigns and their deliveries: the sending engine's state.

Revision ID: 0004
Revises: 0003
Created: 2026-11-29 09:34:42.314829+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.Enum("newsletter", "announcement", "invitation", name="campaign_kind"), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "scheduled", "running", "paused", "cancelled", "finished", name="campaign_status"),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("preheader", sa.String(length=300), nullable=True),
        sa.Column("from_name", sa.String(length=200), nullable=False),
        sa.Column("from_email", sa.String(length=320), nullable=False),
        sa.Column("reply_to", sa.String(length=320), nullable=True),
        sa.Column("list_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("segment_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("publication_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("scheduled_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("started_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("finished_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("paused_reason", sa.Text(), nullable=True),
        sa.Column("audience_count", sa.Integer(), nullable=True),
        sa.Column("suppressed_count", sa.Integer(), nullable=True),
        sa.Column("compiled_html", sa.Text(), nullable=True),
        sa.Column("compiled_text", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"], ["mailing_list.id"], name=op.f("fk_campaign_list_id_mailing_list"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publication.id"],
            name=op.f("fk_campaign_publication_id_publication"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segment.id"], name=op.f("fk_campaign_segment_id_segment"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    op.create_index(op.f("ix_campaign_list_id"), "campaign", ["list_id"], unique=False)
    op.create_index(op.f("ix_campaign_status"), "campaign", ["status"], unique=False)
    op.create_table(
        "delivery",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("campaign_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued", "leased", "sent", "failed", "bounced", "unsubscribed", "cancelled", name="delivery_status"
            ),
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
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_delivery_campaign_id_campaign"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_delivery_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint("campaign_id", "person_id", name="uq_delivery_campaign_person"),
    )
    op.create_index("ix_delivery_campaign_status", "delivery", ["campaign_id", "status"], unique=False)
    op.create_index(
        "ix_delivery_due",
        "delivery",
        ["campaign_id", "next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index(
        "ix_delivery_leased",
        "delivery",
        ["lease_expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'leased'"),
    )
    op.create_index(op.f("ix_delivery_person_id"), "delivery", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_delivery_person_id"), table_name="delivery")
    op.drop_index("ix_delivery_leased", table_name="delivery", postgresql_where=sa.text("status = 'leased'"))
    op.drop_index("ix_delivery_due", table_name="delivery", postgresql_where=sa.text("status = 'queued'"))
    op.drop_index("ix_delivery_campaign_status", table_name="delivery")
    op.drop_table("delivery")
    op.drop_index(op.f("ix_campaign_status"), table_name="campaign")
    op.drop_index(op.f("ix_campaign_list_id"), table_name="campaign")
    op.drop_table("campaign")
    for name in ("delivery_status", "campaign_status", "campaign_kind"):
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
