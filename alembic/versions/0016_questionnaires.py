"""Questionnaires: member surveys and the label's yearly applications, their frozen versions, who
was asked, answers saved question by question, and the label jury's scores; system mail learns the
questionnaire messages.

Revision ID: 0016
Revises: 0015
Created: 2026-12-02 08:32:38.816564+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


KINDS = (
    "questionnaire_invitation",
    "questionnaire_reminder",
    "questionnaire_receipt",
    "label_result",
    "jury_invitation",
)


def upgrade() -> None:
    for kind in KINDS:
        op.execute(f"ALTER TYPE system_message_kind ADD VALUE IF NOT EXISTS '{kind}'")
    op.create_table(
        "questionnaire",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("kind", sa.Enum("survey", "label_application", name="questionnaire_kind"), nullable=False),
        sa.Column("status", sa.Enum("draft", "open", "closed", name="questionnaire_status"), nullable=False),
        sa.Column("answered_by", sa.Enum("person", "organisation", name="questionnaire_answered_by"), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=True),
        sa.Column("closes_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("reminder_dates", postgresql.ARRAY(sa.Date()), nullable=False),
        sa.Column("label_year", sa.Integer(), nullable=True),
        sa.Column("criteria", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("results_public", sa.Boolean(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind <> 'label_application' OR label_year IS NOT NULL", name=op.f("ck_questionnaire_label_has_year")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire")),
    )
    op.create_index(
        "uq_questionnaire_label_year",
        "questionnaire",
        ["label_year"],
        unique=True,
        postgresql_where=sa.text("label_year IS NOT NULL"),
    )
    op.create_table(
        "jury_member",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("questionnaire_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("staff_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaire.id"],
            name=op.f("fk_jury_member_questionnaire_id_questionnaire"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_jury_member_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jury_member")),
    )
    op.create_index(op.f("ix_jury_member_questionnaire_id"), "jury_member", ["questionnaire_id"], unique=False)
    op.create_table(
        "questionnaire_recipient",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("questionnaire_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("organisation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("reminded_on", postgresql.ARRAY(sa.Date()), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_questionnaire_recipient_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_questionnaire_recipient_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaire.id"],
            name=op.f("fk_questionnaire_recipient_questionnaire_id_questionnaire"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_recipient")),
        sa.UniqueConstraint("questionnaire_id", "person_id", name="uq_questionnaire_recipient_person"),
    )
    op.create_index(
        "ix_questionnaire_recipient_organisation",
        "questionnaire_recipient",
        ["questionnaire_id", "organisation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_questionnaire_recipient_person_id"), "questionnaire_recipient", ["person_id"], unique=False
    )
    op.create_table(
        "questionnaire_response",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("questionnaire_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("respondent_key", sa.String(length=100), nullable=False),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("organisation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("region_code", sa.String(length=3), nullable=True),
        sa.Column("population_band", sa.String(length=20), nullable=True),
        sa.Column(
            "status",
            sa.Enum("draft", "submitted", "under_review", "decided", name="questionnaire_response_status"),
            nullable=False,
        ),
        sa.Column("submitted_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("decided_level", sa.Integer(), nullable=True),
        sa.Column("decided_green", sa.Boolean(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_questionnaire_response_organisation_id_organisation"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_questionnaire_response_person_id_person"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaire.id"],
            name=op.f("fk_questionnaire_response_questionnaire_id_questionnaire"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_response")),
        sa.UniqueConstraint("questionnaire_id", "respondent_key", name="uq_questionnaire_response_respondent"),
    )
    op.create_index(
        op.f("ix_questionnaire_response_organisation_id"), "questionnaire_response", ["organisation_id"], unique=False
    )
    op.create_index(
        "ix_questionnaire_response_status", "questionnaire_response", ["questionnaire_id", "status"], unique=False
    )
    op.create_table(
        "questionnaire_version",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("questionnaire_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaire.id"],
            name=op.f("fk_questionnaire_version_questionnaire_id_questionnaire"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_version")),
        sa.UniqueConstraint("questionnaire_id", "number", name="uq_questionnaire_version_number"),
    )
    op.create_table(
        "jury_assignment",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("jury_member_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("response_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("scores", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("scored_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["jury_member_id"],
            ["jury_member.id"],
            name=op.f("fk_jury_assignment_jury_member_id_jury_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["questionnaire_response.id"],
            name=op.f("fk_jury_assignment_response_id_questionnaire_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jury_assignment")),
        sa.UniqueConstraint("jury_member_id", "response_id", name="uq_jury_assignment"),
    )
    op.create_index(op.f("ix_jury_assignment_response_id"), "jury_assignment", ["response_id"], unique=False)
    op.create_table(
        "questionnaire_answer",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("response_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("question_key", sa.String(length=60), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["questionnaire_response.id"],
            name=op.f("fk_questionnaire_answer_response_id_questionnaire_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_answer")),
        sa.UniqueConstraint("response_id", "question_key", name="uq_questionnaire_answer_question"),
    )
    op.create_table(
        "questionnaire_file",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("response_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("question_key", sa.String(length=60), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["questionnaire_response.id"],
            name=op.f("fk_questionnaire_file_response_id_questionnaire_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_file")),
    )
    op.create_index(op.f("ix_questionnaire_file_response_id"), "questionnaire_file", ["response_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_questionnaire_file_response_id"), table_name="questionnaire_file")
    op.drop_table("questionnaire_file")
    op.drop_table("questionnaire_answer")
    op.drop_index(op.f("ix_jury_assignment_response_id"), table_name="jury_assignment")
    op.drop_table("jury_assignment")
    op.drop_table("questionnaire_version")
    op.drop_index("ix_questionnaire_response_status", table_name="questionnaire_response")
    op.drop_index(op.f("ix_questionnaire_response_organisation_id"), table_name="questionnaire_response")
    op.drop_table("questionnaire_response")
    op.drop_index(op.f("ix_questionnaire_recipient_person_id"), table_name="questionnaire_recipient")
    op.drop_index("ix_questionnaire_recipient_organisation", table_name="questionnaire_recipient")
    op.drop_table("questionnaire_recipient")
    op.drop_index(op.f("ix_jury_member_questionnaire_id"), table_name="jury_member")
    op.drop_table("jury_member")
    op.drop_index(
        "uq_questionnaire_label_year", table_name="questionnaire", postgresql_where=sa.text("label_year IS NOT NULL")
    )
    op.drop_table("questionnaire")
    for name in (
        "questionnaire_response_status",
        "questionnaire_answered_by",
        "questionnaire_status",
        "questionnaire_kind",
    ):
        op.execute(f"DROP TYPE {name}")
    # PostgreSQL cannot drop an enum value: rows of these kinds go, the type is rebuilt without them.
    kinds = ", ".join(f"'{k}'" for k in KINDS)
    op.execute(f"DELETE FROM system_message WHERE kind::text IN ({kinds})")
    op.execute("ALTER TYPE system_message_kind RENAME TO system_message_kind_old")
    op.execute("CREATE TYPE system_message_kind AS ENUM ('subscription_confirmation', 'staff_invitation')")
    op.execute(
        "ALTER TABLE system_message ALTER COLUMN kind TYPE system_message_kind USING kind::text::system_message_kind"
    )
    op.execute("DROP TYPE system_message_kind_old")
