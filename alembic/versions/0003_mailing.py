"""Mailing: lists and subscriptions with their consent proof, the suppression list, segments,
publications.

Revision ID: 0003
Revises: 0002
Created: 2026-11-29 09:34:06.980612+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

ENUMS = ("list_kind", "publication_kind", "suppression_reason", "subscription_status", "legal_basis")

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mailing_list",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "kind", sa.Enum("newsletter", "invitations", "publications", "other", name="list_kind"), nullable=False
        ),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("double_opt_in", sa.Boolean(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailing_list")),
        sa.UniqueConstraint("slug", name=op.f("uq_mailing_list_slug")),
    )
    op.create_table(
        "publication",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("report", "survey_results", "guide", "motion", "other", name="publication_kind"),
            nullable=False,
        ),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("cover_image_url", sa.String(length=1000), nullable=True),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication")),
    )
    op.create_index(op.f("ix_publication_is_public"), "publication", ["is_public"], unique=False)
    op.create_index(op.f("ix_publication_published_on"), "publication", ["published_on"], unique=False)
    op.create_table(
        "segment",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment")),
        sa.UniqueConstraint("name", name=op.f("uq_segment_name")),
    )
    op.create_table(
        "suppression",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "reason",
            sa.Enum("unsubscribed_all", "hard_bounce", "complaint", "erased", "manual", name="suppression_reason"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppression")),
        sa.UniqueConstraint("email_hash", name=op.f("uq_suppression_email_hash")),
    )
    op.create_table(
        "subscription",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("list_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column(
            "status", sa.Enum("pending", "subscribed", "unsubscribed", name="subscription_status"), nullable=False
        ),
        sa.Column("legal_basis", sa.Enum("consent", "legitimate_interest", name="legal_basis"), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=True),
        sa.Column("consent_version", sa.String(length=50), nullable=True),
        sa.Column("consented_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("confirmed_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("unsubscribe_reason", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"], ["mailing_list.id"], name=op.f("fk_subscription_list_id_mailing_list"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_subscription_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
        sa.UniqueConstraint("person_id", "list_id", name="uq_subscription_person_list"),
    )
    op.create_index(op.f("ix_subscription_list_id"), "subscription", ["list_id"], unique=False)
    op.create_index(op.f("ix_subscription_person_id"), "subscription", ["person_id"], unique=False)
    op.create_index(op.f("ix_subscription_status"), "subscription", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_subscription_status"), table_name="subscription")
    op.drop_index(op.f("ix_subscription_person_id"), table_name="subscription")
    op.drop_index(op.f("ix_subscription_list_id"), table_name="subscription")
    op.drop_table("subscription")
    op.drop_table("suppression")
    op.drop_table("segment")
    op.drop_index(op.f("ix_publication_published_on"), table_name="publication")
    op.drop_index(op.f("ix_publication_is_public"), table_name="publication")
    op.drop_table("publication")
    op.drop_table("mailing_list")
    for name in ENUMS:
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
