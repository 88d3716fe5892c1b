"""The CRM core: reference geography, organisations and memberships, dues, people and positions,
the board, partners and conventions, labels, tags, CSV imports; accent-forgiving search.

Revision ID: 0002
Revises: 0001
Created: 2026-11-29 09:30:19.407758+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crm.db.reference_data import load_reference_data

ENUMS = (
    "import_status",
    "organisation_kind",
    "convention_status",
    "convention_renewal",
    "dues_status",
    "board_role",
    "membership_status",
    "position_kind",
)

SEARCH_FUNCTION = """
CREATE OR REPLACE FUNCTION crm_search_text(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT trim(regexp_replace(lower(public.unaccent('public.unaccent'::regdictionary, value)),
                             '[^a-z0-9@.]+', ' ', 'g'))
$$
"""

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Search forgives accents, case, hyphens and apostrophes: one immutable function normalises
    # both the stored text (generated columns, trigram indexes) and what staff type.
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    op.execute(SEARCH_FUNCTION)
    op.create_table(
        "fee_band",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("min_population", sa.Integer(), nullable=False),
        sa.Column("max_population", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_fee_band_amount_not_negative")),
        sa.CheckConstraint(
            "max_population IS NULL OR max_population > min_population", name=op.f("ck_fee_band_band_is_ordered")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_band")),
        sa.UniqueConstraint("year", "min_population", name="uq_fee_band_year_min"),
    )
    op.create_index(op.f("ix_fee_band_year"), "fee_band", ["year"], unique=False)
    op.create_table(
        "import_batch",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("status", sa.Enum("checked", "applied", "failed", name="import_status"), nullable=False),
        sa.Column("encoding", sa.String(length=20), nullable=False),
        sa.Column("delimiter", sa.String(length=1), nullable=False),
        sa.Column("rows", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("report", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("applied_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
    )
    op.create_table(
        "organisation",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "commune",
                "epci",
                "departement",
                "region",
                "association",
                "company",
                "state_agency",
                "other",
                name="organisation_kind",
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("insee_code", sa.String(length=5), nullable=True),
        sa.Column("siren", sa.String(length=9), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("departement_code", sa.String(length=3), nullable=True),
        sa.Column("region_code", sa.String(length=3), nullable=True),
        sa.Column("epci_siren", sa.String(length=9), nullable=True),
        sa.Column("is_partner", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed(
                "crm_search_text(name || ' ' || coalesce(insee_code, '') || ' ' || coalesce(siren, ''))", persisted=True
            ),
            nullable=False,
        ),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind <> 'commune' OR insee_code IS NOT NULL", name=op.f("ck_organisation_commune_has_insee_code")
        ),
        sa.CheckConstraint("kind <> 'epci' OR siren IS NOT NULL", name=op.f("ck_organisation_epci_has_siren")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("insee_code", name=op.f("uq_organisation_insee_code")),
        sa.UniqueConstraint("siren", name=op.f("uq_organisation_siren")),
    )
    op.create_index(op.f("ix_organisation_departement_code"), "organisation", ["departement_code"], unique=False)
    op.create_index(op.f("ix_organisation_epci_siren"), "organisation", ["epci_siren"], unique=False)
    op.create_index(op.f("ix_organisation_is_partner"), "organisation", ["is_partner"], unique=False)
    op.create_index("ix_organisation_kind_region", "organisation", ["kind", "region_code"], unique=False)
    op.create_index(op.f("ix_organisation_population"), "organisation", ["population"], unique=False)
    op.create_index(op.f("ix_organisation_region_code"), "organisation", ["region_code"], unique=False)
    op.create_index(
        "ix_organisation_search",
        "organisation",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_table(
        "person",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed(
                "crm_search_text(first_name || ' ' || last_name || ' ' || coalesce(email, ''))", persisted=True
            ),
            nullable=False,
        ),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("email", name=op.f("uq_person_email")),
    )
    op.create_index("ix_person_last_first", "person", ["last_name", "first_name"], unique=False)
    op.create_index(
        "ix_person_search",
        "person",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_table(
        "ref_commune",
        sa.Column("insee_code", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=3), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("departement_code", sa.String(length=3), nullable=False),
        sa.Column("region_code", sa.String(length=3), nullable=False),
        sa.Column("epci_siren", sa.String(length=9), nullable=True),
        sa.PrimaryKeyConstraint("insee_code", name=op.f("pk_ref_commune")),
    )
    op.create_index(op.f("ix_ref_commune_departement_code"), "ref_commune", ["departement_code"], unique=False)
    op.create_index(op.f("ix_ref_commune_epci_siren"), "ref_commune", ["epci_siren"], unique=False)
    op.create_table(
        "ref_epci",
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=2), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("departement_code", sa.String(length=3), nullable=True),
        sa.Column("region_code", sa.String(length=3), nullable=True),
        sa.PrimaryKeyConstraint("siren", name=op.f("pk_ref_epci")),
    )
    op.create_table(
        "ref_region",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_ref_region")),
    )
    op.create_table(
        "tag",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("color", sa.String(length=20), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag")),
        sa.UniqueConstraint("name", name=op.f("uq_tag_name")),
    )
    op.create_table(
        "convention",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("organisation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "signed", "active", "expired", "terminated", name="convention_status"),
            nullable=False,
        ),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("renewal", sa.Enum("tacit", "explicit", name="convention_renewal"), nullable=False),
        sa.Column("notice_period_days", sa.Integer(), nullable=False),
        sa.Column("renewal_term_months", sa.Integer(), nullable=True),
        sa.Column("document_url", sa.String(length=1000), nullable=True),
        sa.Column("commitments", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name=op.f("ck_convention_dates_ordered")
        ),
        sa.CheckConstraint("notice_period_days >= 0", name=op.f("ck_convention_notice_not_negative")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_convention_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convention")),
    )
    op.create_index("ix_convention_ends_on", "convention", ["ends_on"], unique=False)
    op.create_index(op.f("ix_convention_organisation_id"), "convention", ["organisation_id"], unique=False)
    op.create_index(op.f("ix_convention_status"), "convention", ["status"], unique=False)
    op.create_table(
        "dues",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("organisation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("status", sa.Enum("invoiced", "paid", "waived", name="dues_status"), nullable=False),
        sa.Column("invoiced_on", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_dues_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dues")),
        sa.UniqueConstraint("organisation_id", "year", name="uq_dues_organisation_year"),
    )
    op.create_index(op.f("ix_dues_organisation_id"), "dues", ["organisation_id"], unique=False)
    op.create_index(op.f("ix_dues_status"), "dues", ["status"], unique=False)
    op.create_index(op.f("ix_dues_year"), "dues", ["year"], unique=False)
    op.create_table(
        "label_award",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("organisation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("green", sa.Boolean(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name=op.f("ck_label_award_level_1_to_5")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_label_award_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_award")),
        sa.UniqueConstraint("organisation_id", "year", name="uq_label_award_organisation_year"),
    )
    op.create_index(op.f("ix_label_award_organisation_id"), "label_award", ["organisation_id"], unique=False)
    op.create_index("ix_label_award_year_level", "label_award", ["year", "level"], unique=False)
    op.create_table(
        "mandate",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("organisation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column(
            "role",
            sa.Enum("president", "vice_president", "treasurer", "secretary", "member", name="board_role"),
            nullable=False,
        ),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("term_end IS NULL OR term_end >= term_start", name=op.f("ck_mandate_term_ordered")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_mandate_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_mandate_person_id_person"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mandate")),
    )
    op.create_index(op.f("ix_mandate_organisation_id"), "mandate", ["organisation_id"], unique=False)
    op.create_index(op.f("ix_mandate_person_id"), "mandate", ["person_id"], unique=False)
    op.create_index("ix_mandate_term", "mandate", ["term_start", "term_end"], unique=False)
    op.create_table(
        "membership",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("organisation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column(
            "status", sa.Enum("prospect", "active", "lapsed", "resigned", name="membership_status"), nullable=False
        ),
        sa.Column("member_since", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_membership_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_membership_organisation_id")),
    )
    op.create_index(op.f("ix_membership_status"), "membership", ["status"], unique=False)
    op.create_table(
        "position",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("organisation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.Enum("elected", "staff", name="position_kind"), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ended_on IS NULL OR started_on IS NULL OR ended_on >= started_on", name=op.f("ck_position_dates_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_position_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_position_person_id_person"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position")),
    )
    op.create_index("ix_position_organisation", "position", ["organisation_id", "ended_on"], unique=False)
    op.create_index(op.f("ix_position_person_id"), "position", ["person_id"], unique=False)
    op.create_table(
        "ref_departement",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("region_code", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["ref_region.code"], name=op.f("fk_ref_departement_region_code_ref_region")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_ref_departement")),
    )
    op.create_index(op.f("ix_ref_departement_region_code"), "ref_departement", ["region_code"], unique=False)
    op.create_table(
        "tagging",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("tag_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tag_id"], ["tag.id"], name=op.f("fk_tagging_tag_id_tag"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tagging")),
        sa.UniqueConstraint("tag_id", "entity_type", "entity_id", name="uq_tagging"),
    )
    op.create_index("ix_tagging_entity", "tagging", ["entity_type", "entity_id"], unique=False)
    op.create_table(
        "membership_status_change",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("membership_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column(
            "status", sa.Enum("prospect", "active", "lapsed", "resigned", name="membership_status"), nullable=False
        ),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["membership.id"],
            name=op.f("fk_membership_status_change_membership_id_membership"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_status_change")),
    )
    op.create_index(
        op.f("ix_membership_status_change_membership_id"), "membership_status_change", ["membership_id"], unique=False
    )
    load_reference_data(op.get_bind())


def downgrade() -> None:
    op.drop_index(op.f("ix_membership_status_change_membership_id"), table_name="membership_status_change")
    op.drop_table("membership_status_change")
    op.drop_index("ix_tagging_entity", table_name="tagging")
    op.drop_table("tagging")
    op.drop_index(op.f("ix_ref_departement_region_code"), table_name="ref_departement")
    op.drop_table("ref_departement")
    op.drop_index(op.f("ix_position_person_id"), table_name="position")
    op.drop_index("ix_position_organisation", table_name="position")
    op.drop_table("position")
    op.drop_index(op.f("ix_membership_status"), table_name="membership")
    op.drop_table("membership")
    op.drop_index("ix_mandate_term", table_name="mandate")
    op.drop_index(op.f("ix_mandate_person_id"), table_name="mandate")
    op.drop_index(op.f("ix_mandate_organisation_id"), table_name="mandate")
    op.drop_table("mandate")
    op.drop_index("ix_label_award_year_level", table_name="label_award")
    op.drop_index(op.f("ix_label_award_organisation_id"), table_name="label_award")
    op.drop_table("label_award")
    op.drop_index(op.f("ix_dues_year"), table_name="dues")
    op.drop_index(op.f("ix_dues_status"), table_name="dues")
    op.drop_index(op.f("ix_dues_organisation_id"), table_name="dues")
    op.drop_table("dues")
    op.drop_index(op.f("ix_convention_status"), table_name="convention")
    op.drop_index(op.f("ix_convention_organisation_id"), table_name="convention")
    op.drop_index("ix_convention_ends_on", table_name="convention")
    op.drop_table("convention")
    op.drop_table("tag")
    op.drop_table("ref_region")
    op.drop_table("ref_epci")
    op.drop_index(op.f("ix_ref_commune_epci_siren"), table_name="ref_commune")
    op.drop_index(op.f("ix_ref_commune_departement_code"), table_name="ref_commune")
    op.drop_table("ref_commune")
    op.drop_index(
        "ix_person_search", table_name="person", postgresql_using="gin", postgresql_ops={"search_text": "gin_trgm_ops"}
    )
    op.drop_index("ix_person_last_first", table_name="person")
    op.drop_table("person")
    op.drop_index(
        "ix_organisation_search",
        table_name="organisation",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index(op.f("ix_organisation_region_code"), table_name="organisation")
    op.drop_index(op.f("ix_organisation_population"), table_name="organisation")
    op.drop_index("ix_organisation_kind_region", table_name="organisation")
    op.drop_index(op.f("ix_organisation_is_partner"), table_name="organisation")
    op.drop_index(op.f("ix_organisation_epci_siren"), table_name="organisation")
    op.drop_index(op.f("ix_organisation_departement_code"), table_name="organisation")
    op.drop_table("organisation")
    op.drop_table("import_batch")
    op.drop_index(op.f("ix_fee_band_year"), table_name="fee_band")
    op.drop_table("fee_band")
    for name in ENUMS:
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
    op.execute("DROP FUNCTION IF EXISTS crm_search_text(text)")
