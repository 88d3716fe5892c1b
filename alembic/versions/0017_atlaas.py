"""The Atlaas: the catalogue of the members' digital actions, its theme tree, its moderation queue.

- `crm_french`, a text search configuration: French stemming over unaccented words, so that
  "médiathèques" finds "Médiathèque" and "ecole numerique" finds "École numérique". The action's
  `search_document` is a stored generated tsvector over it, under a GIN index.
- The facets (régions, départements, population bands, label levels, organisation kinds, themes)
  are arrays on the action row: a search and its facet counts read one table.

Revision ID: 0017
Revises: 0016
Created: 2026-12-02 08:32:40.028863+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# unaccent before the French stemmer, for every kind of word the parser finds.
SEARCH_CONFIG = (
    "CREATE TEXT SEARCH CONFIGURATION crm_french (COPY = pg_catalog.french)",
    "ALTER TEXT SEARCH CONFIGURATION crm_french"
    " ALTER MAPPING FOR hword, hword_part, word, asciiword, asciihword, hword_asciipart"
    " WITH public.unaccent, french_stem",
)


# The action's text, weighted: title (A); subtitle, hyphen-joined words, themes, places (B);
# synthesis (C); the rest (D).
SEARCH_DOCUMENT = (
    "setweight(to_tsvector('crm_french'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('crm_french'::regconfig, coalesce(subtitle, '')), 'B') || "
    "setweight(to_tsvector('crm_french'::regconfig, coalesce(translate(title || "
    "' ' || "
    "coalesce(subtitle, ''), '-', ''), '')), 'B') || "
    "setweight(to_tsvector('crm_french'::regconfig, coalesce(theme_text, '')), 'B') || "
    "setweight(to_tsvector('crm_french'::regconfig, coalesce(place_text, '')), 'B') || "
    "setweight(to_tsvector('crm_french'::regconfig, coalesce(synthesis, '')), 'C') || "
    "setweight(to_tsvector('crm_french'::regconfig, coalesce(actions_carried_out, '')), 'D') || "
    "setweight(to_tsvector('crm_french'::regconfig, coalesce(results, '')), 'D') || "
    "setweight(to_tsvector('crm_french'::regconfig, coalesce(recommendations, '')), 'D') || "
    "setweight(to_tsvector('crm_french'::regconfig, coalesce(tools_text, '')), 'D')"
)


def upgrade() -> None:
    for statement in SEARCH_CONFIG:
        op.execute(statement)
    op.create_table(
        "atlaas_action",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("subtitle", sa.String(length=300), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("synthesis", sa.Text(), nullable=True),
        sa.Column("actions_carried_out", sa.Text(), nullable=True),
        sa.Column("results", sa.Text(), nullable=True),
        sa.Column("recommendations", sa.Text(), nullable=True),
        sa.Column("links", postgresql.ARRAY(sa.String(length=2000)), nullable=False),
        sa.Column("tools", postgresql.ARRAY(sa.String(length=200)), nullable=False),
        sa.Column("providers", postgresql.ARRAY(sa.String(length=200)), nullable=False),
        sa.Column("videos", postgresql.ARRAY(sa.String(length=2000)), nullable=False),
        sa.Column("photos", postgresql.ARRAY(sa.String(length=2000)), nullable=False),
        sa.Column("status", sa.Enum("draft", "published", name="atlaas_action_status"), nullable=False),
        sa.Column("published_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("insee_codes", postgresql.ARRAY(sa.String(length=5)), nullable=False),
        sa.Column("departement_codes", postgresql.ARRAY(sa.String(length=3)), nullable=False),
        sa.Column("region_codes", postgresql.ARRAY(sa.String(length=3)), nullable=False),
        sa.Column("population_bands", postgresql.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column("label_levels", postgresql.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column("organisation_kinds", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("theme_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("place_text", sa.Text(), nullable=False),
        sa.Column("theme_text", sa.Text(), nullable=False),
        sa.Column("tools_text", sa.Text(), nullable=False),
        sa.Column(
            "search_document",
            postgresql.TSVECTOR(),
            sa.Computed(
                SEARCH_DOCUMENT,
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("year BETWEEN 1990 AND 2100", name=op.f("ck_atlaas_action_year_plausible")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atlaas_action")),
    )
    op.create_index(
        "ix_atlaas_action_places",
        "atlaas_action",
        ["departement_codes", "region_codes"],
        unique=False,
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    )
    op.create_index(
        "ix_atlaas_action_search",
        "atlaas_action",
        ["search_document"],
        unique=False,
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    )
    op.create_index("ix_atlaas_action_status_year", "atlaas_action", ["status", "year"], unique=False)
    op.create_index(
        "ix_atlaas_action_themes",
        "atlaas_action",
        ["theme_ids"],
        unique=False,
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    )
    op.create_table(
        "atlaas_theme",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("parent_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("(level = 1) = (parent_id IS NULL)", name=op.f("ck_atlaas_theme_only_axes_have_no_parent")),
        sa.CheckConstraint("level BETWEEN 1 AND 4", name=op.f("ck_atlaas_theme_level_1_to_4")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["atlaas_theme.id"], name=op.f("fk_atlaas_theme_parent_id_atlaas_theme"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atlaas_theme")),
        sa.UniqueConstraint("parent_id", "name", name="uq_atlaas_theme_parent_name"),
    )
    op.create_index(op.f("ix_atlaas_theme_parent_id"), "atlaas_theme", ["parent_id"], unique=False)
    op.create_table(
        "atlaas_action_organisation",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("action_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("organisation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["atlaas_action.id"],
            name=op.f("fk_atlaas_action_organisation_action_id_atlaas_action"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_atlaas_action_organisation_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atlaas_action_organisation")),
        sa.UniqueConstraint("action_id", "organisation_id", name="uq_atlaas_action_organisation"),
    )
    op.create_index(
        op.f("ix_atlaas_action_organisation_organisation_id"),
        "atlaas_action_organisation",
        ["organisation_id"],
        unique=False,
    )
    op.create_table(
        "atlaas_action_person",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("action_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["atlaas_action.id"],
            name=op.f("fk_atlaas_action_person_action_id_atlaas_action"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_atlaas_action_person_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atlaas_action_person")),
        sa.UniqueConstraint("action_id", "person_id", name="uq_atlaas_action_person"),
    )
    op.create_index(op.f("ix_atlaas_action_person_person_id"), "atlaas_action_person", ["person_id"], unique=False)
    op.create_table(
        "atlaas_action_place",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("action_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("insee_code", sa.String(length=5), nullable=False),
        sa.Column("latitude", sa.Numeric(precision=8, scale=5, asdecimal=False), nullable=True),
        sa.Column("longitude", sa.Numeric(precision=8, scale=5, asdecimal=False), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["atlaas_action.id"],
            name=op.f("fk_atlaas_action_place_action_id_atlaas_action"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["insee_code"], ["ref_commune.insee_code"], name=op.f("fk_atlaas_action_place_insee_code_ref_commune")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atlaas_action_place")),
        sa.UniqueConstraint("action_id", "insee_code", name="uq_atlaas_action_place"),
    )
    op.create_index(op.f("ix_atlaas_action_place_insee_code"), "atlaas_action_place", ["insee_code"], unique=False)
    op.create_table(
        "atlaas_action_theme",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("action_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("theme_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["atlaas_action.id"],
            name=op.f("fk_atlaas_action_theme_action_id_atlaas_action"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["atlaas_theme.id"],
            name=op.f("fk_atlaas_action_theme_theme_id_atlaas_theme"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atlaas_action_theme")),
        sa.UniqueConstraint("action_id", "theme_id", name="uq_atlaas_action_theme"),
    )
    op.create_index(op.f("ix_atlaas_action_theme_theme_id"), "atlaas_action_theme", ["theme_id"], unique=False)
    op.create_table(
        "atlaas_proposal",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("action_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("organisation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("values", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.Enum("pending", "accepted", "rejected", name="atlaas_proposal_status"), nullable=False),
        sa.Column("reviewed_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("reviewed_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["atlaas_action.id"],
            name=op.f("fk_atlaas_proposal_action_id_atlaas_action"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_atlaas_proposal_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_atlaas_proposal_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["staff.id"], name=op.f("fk_atlaas_proposal_reviewed_by_staff"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atlaas_proposal")),
    )
    op.create_index(op.f("ix_atlaas_proposal_action_id"), "atlaas_proposal", ["action_id"], unique=False)
    op.create_index(op.f("ix_atlaas_proposal_person_id"), "atlaas_proposal", ["person_id"], unique=False)
    op.create_index("ix_atlaas_proposal_status", "atlaas_proposal", ["status", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_atlaas_proposal_status", table_name="atlaas_proposal")
    op.drop_index(op.f("ix_atlaas_proposal_person_id"), table_name="atlaas_proposal")
    op.drop_index(op.f("ix_atlaas_proposal_action_id"), table_name="atlaas_proposal")
    op.drop_table("atlaas_proposal")
    op.drop_index(op.f("ix_atlaas_action_theme_theme_id"), table_name="atlaas_action_theme")
    op.drop_table("atlaas_action_theme")
    op.drop_index(op.f("ix_atlaas_action_place_insee_code"), table_name="atlaas_action_place")
    op.drop_table("atlaas_action_place")
    op.drop_index(op.f("ix_atlaas_action_person_person_id"), table_name="atlaas_action_person")
    op.drop_table("atlaas_action_person")
    op.drop_index(op.f("ix_atlaas_action_organisation_organisation_id"), table_name="atlaas_action_organisation")
    op.drop_table("atlaas_action_organisation")
    op.drop_index(op.f("ix_atlaas_theme_parent_id"), table_name="atlaas_theme")
    op.drop_table("atlaas_theme")
    op.drop_index(
        "ix_atlaas_action_themes",
        table_name="atlaas_action",
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    )
    op.drop_index("ix_atlaas_action_status_year", table_name="atlaas_action")
    op.drop_index(
        "ix_atlaas_action_search",
        table_name="atlaas_action",
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    )
    op.drop_index(
        "ix_atlaas_action_places",
        table_name="atlaas_action",
        postgresql_using="gin",
        postgresql_with={"fastupdate": "off"},
    )
    op.drop_table("atlaas_action")
    op.execute("DROP TYPE atlaas_action_status")
    op.execute("DROP TYPE atlaas_proposal_status")
    op.execute("DROP TEXT SEARCH CONFIGURATION crm_french")
