"""Events: invitations and their answers, capacity and waiting list, and the outbox of event messages.

Revision ID: 0005
Revises: 0004
Created: 2026-11-29 10:12:14.833165+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("ceremony", "congress", "general_assembly", "webinar", "workshop", name="event_kind"),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("starts_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("ends_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("venue_name", sa.String(length=300), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("online_url", sa.String(length=1000), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("registration_deadline", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("guests_allowed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Enum("scheduled", "cancelled", name="event_status"), nullable=False),
        sa.Column("ics_sequence", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name=op.f("ck_event_capacity_positive")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_event_ends_after_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
    )
    op.create_index("ix_event_starts_at", "event", ["starts_at"], unique=False)
    op.create_table(
        "invitation",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("event_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("campaign_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("status", sa.Enum("invited", "yes", "no", "waiting", name="invitation_status"), nullable=False),
        sa.Column("with_guest", sa.Boolean(), nullable=False),
        sa.Column("answered_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("first_opened_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("waiting_since", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("checked_in_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_invitation_campaign_id_campaign"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_invitation_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_invitation_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation")),
        sa.UniqueConstraint("event_id", "person_id", name="uq_invitation_event_person"),
    )
    op.create_index("ix_invitation_event_status", "invitation", ["event_id", "status"], unique=False)
    op.create_index(op.f("ix_invitation_person_id"), "invitation", ["person_id"], unique=False)
    op.create_table(
        "event_notification",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("invitation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "confirmation",
                "waiting",
                "promoted",
                "reminder",
                "update",
                "cancellation",
                name="event_notification_kind",
            ),
            nullable=False,
        ),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("queued", "leased", "sent", "failed", "skipped", name="event_notification_status"),
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
            ["invitation_id"],
            ["invitation.id"],
            name=op.f("fk_event_notification_invitation_id_invitation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_notification")),
        sa.UniqueConstraint("invitation_id", "kind", "sequence", name="uq_event_notification_once"),
    )
    op.create_index(
        "ix_event_notification_due",
        "event_notification",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index(op.f("ix_event_notification_invitation_id"), "event_notification", ["invitation_id"], unique=False)
    op.create_index(
        "ix_event_notification_leased",
        "event_notification",
        ["lease_expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'leased'"),
    )
    op.add_column("campaign", sa.Column("event_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True))
    op.create_index(op.f("ix_campaign_event_id"), "campaign", ["event_id"], unique=False)
    op.create_foreign_key(
        op.f("fk_campaign_event_id_event"), "campaign", "event", ["event_id"], ["id"], ondelete="RESTRICT"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_campaign_event_id_event"), "campaign", type_="foreignkey")
    op.drop_index(op.f("ix_campaign_event_id"), table_name="campaign")
    op.drop_column("campaign", "event_id")
    op.drop_index(
        "ix_event_notification_leased", table_name="event_notification", postgresql_where=sa.text("status = 'leased'")
    )
    op.drop_index(op.f("ix_event_notification_invitation_id"), table_name="event_notification")
    op.drop_index(
        "ix_event_notification_due", table_name="event_notification", postgresql_where=sa.text("status = 'queued'")
    )
    op.drop_table("event_notification")
    op.drop_index(op.f("ix_invitation_person_id"), table_name="invitation")
    op.drop_index("ix_invitation_event_status", table_name="invitation")
    op.drop_table("invitation")
    op.drop_index("ix_event_starts_at", table_name="event")
    op.drop_table("event")
    for name in (
        "event_notification_status",
        "event_notification_kind",
        "invitation_status",
        "event_status",
        "event_kind",
    ):
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
