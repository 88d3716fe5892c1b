"""The association's settings (name, address, sender, logo, colour) in a table of one row, edited by
admins; the `CRM_ORGANISATION_*` environment values stand in until the first save.

Revision ID: 0012
Revises: 0011
Created: 2026-12-02 04:45:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy
import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "association_settings",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("singleton", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("postal_address", sa.String(length=300), nullable=False),
        sa.Column("website", sa.String(length=2000), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=False),
        sa.Column("sender_email", sa.String(length=320), nullable=False),
        sa.Column("reply_to", sa.String(length=320), nullable=False),
        sa.Column("brand_colour", sa.String(length=7), nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sa.String(length=20), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("singleton", name=op.f("ck_association_settings_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_association_settings")),
        sa.UniqueConstraint("singleton", name=op.f("uq_association_settings_singleton")),
    )


def downgrade() -> None:
    op.drop_table("association_settings")
