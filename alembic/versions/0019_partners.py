"""The partner API: API clients and keys, partner contacts with their legal basis, the consent to
be shared with partners, idempotent write answers, and the contact change log that partners pull
from, fed by triggers so that every write path (staff, imports, merges, erasure, SQL) records.

Revision ID: 0019
Revises: 0018
Created: 2026-12-02 08:33:22.330079+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The one place a contact change is recorded (crm/domain/partners/feed.py calls it too): a row in the
# change log, stamped with the writing transaction's id.
TRIGGERS = [
    """
    CREATE FUNCTION record_contact_change(p_person uuid, p_deleted boolean) RETURNS void
    LANGUAGE sql AS $$
        INSERT INTO contact_change (person_id, deleted) VALUES (p_person, p_deleted)
    $$
    """,
    # Only the fields a partner may see count: a change to internal notes is no partner's business.
    """
    CREATE FUNCTION person_contact_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            PERFORM record_contact_change(OLD.id, true);
            RETURN OLD;
        END IF;
        IF TG_OP = 'UPDATE' AND (OLD.first_name, OLD.last_name, OLD.email, OLD.phone, OLD.language)
            IS NOT DISTINCT FROM (NEW.first_name, NEW.last_name, NEW.email, NEW.phone, NEW.language) THEN
            RETURN NEW;
        END IF;
        PERFORM record_contact_change(NEW.id, false);
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER person_contact_changed AFTER INSERT OR UPDATE OR DELETE ON person
    FOR EACH ROW EXECUTE FUNCTION person_contact_changed()
    """,
    # Sharing consent given or withdrawn, a partner's external id or basis: the person as a partner
    # sees it changed.
    """
    CREATE FUNCTION person_sharing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            PERFORM record_contact_change(OLD.person_id, false);
            RETURN OLD;
        END IF;
        PERFORM record_contact_change(NEW.person_id, false);
        IF TG_OP = 'UPDATE' AND OLD.person_id <> NEW.person_id THEN
            PERFORM record_contact_change(OLD.person_id, false);
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER partner_sharing_consent_changed AFTER INSERT OR UPDATE OR DELETE ON partner_sharing_consent
    FOR EACH ROW EXECUTE FUNCTION person_sharing_changed()
    """,
    """
    CREATE TRIGGER partner_contact_changed AFTER INSERT OR UPDATE OR DELETE ON partner_contact
    FOR EACH ROW EXECUTE FUNCTION person_sharing_changed()
    """,
    # A convention's dates or status decide what a partner shares: everyone who consented changes.
    """
    CREATE FUNCTION convention_sharing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND (OLD.organisation_id, OLD.status, OLD.starts_on, OLD.ends_on)
            IS NOT DISTINCT FROM (NEW.organisation_id, NEW.status, NEW.starts_on, NEW.ends_on) THEN
            RETURN NEW;
        END IF;
        PERFORM record_contact_change(c.person_id, false) FROM partner_sharing_consent c;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER convention_sharing_changed AFTER INSERT OR UPDATE OR DELETE ON convention
    FOR EACH ROW EXECUTE FUNCTION convention_sharing_changed()
    """,
]
DROP_TRIGGERS = [
    "DROP TRIGGER convention_sharing_changed ON convention",
    "DROP FUNCTION convention_sharing_changed()",
    "DROP TRIGGER partner_contact_changed ON partner_contact",
    "DROP TRIGGER partner_sharing_consent_changed ON partner_sharing_consent",
    "DROP FUNCTION person_sharing_changed()",
    "DROP TRIGGER person_contact_changed ON person",
    "DROP FUNCTION person_contact_changed()",
    "DROP FUNCTION record_contact_change(uuid, boolean)",
]


def upgrade() -> None:
    op.create_table(
        "contact_change",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column(
            "xid", sa.BigInteger(), server_default=sa.text("(pg_current_xact_id())::text::bigint"), nullable=False
        ),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "changed_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_contact_change")),
    )
    op.create_index("ix_contact_change_xid", "contact_change", ["xid"], unique=False)
    op.create_table(
        "api_client",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("organisation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("revoked_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_used_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_used_from", sa.String(length=64), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_api_client_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_client")),
    )
    op.create_index(op.f("ix_api_client_organisation_id"), "api_client", ["organisation_id"], unique=False)
    op.create_table(
        "partner_contact",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("organisation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("legal_basis", postgresql.ENUM(name="legal_basis", create_type=False), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=True),
        sa.Column("consent_version", sa.String(length=50), nullable=True),
        sa.Column("consented_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("proof_url", sa.String(length=1000), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_partner_contact_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_partner_contact_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_contact")),
        sa.UniqueConstraint("organisation_id", "external_id", name="uq_partner_contact_external_id"),
        sa.UniqueConstraint("organisation_id", "person_id", name="uq_partner_contact_person"),
    )
    op.create_index("ix_partner_contact_person", "partner_contact", ["person_id"], unique=False)
    op.create_table(
        "partner_sharing_consent",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("legal_basis", postgresql.ENUM(name="legal_basis", create_type=False), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=True),
        sa.Column("consent_version", sa.String(length=50), nullable=True),
        sa.Column("consented_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("withdrawn_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_partner_sharing_consent_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_sharing_consent")),
        sa.UniqueConstraint("person_id", name=op.f("uq_partner_sharing_consent_person_id")),
    )
    op.create_table(
        "api_key",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("client_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("lookup_id", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=8), nullable=False),
        sa.Column("expires_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_used_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_used_from", sa.String(length=64), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_client.id"], name=op.f("fk_api_key_client_id_api_client"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("lookup_id", name=op.f("uq_api_key_lookup_id")),
    )
    op.create_index(op.f("ix_api_key_client_id"), "api_key", ["client_id"], unique=False)
    op.create_table(
        "partner_idempotent_request",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("client_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["api_client.id"],
            name=op.f("fk_partner_idempotent_request_client_id_api_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_idempotent_request")),
        sa.UniqueConstraint("client_id", "key", name="uq_partner_idempotent_request_key"),
    )
    op.create_table(
        "partner_share",
        sa.Column("organisation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("person_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column(
            "shared_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_partner_share_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "person_id", name=op.f("pk_partner_share")),
    )
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGERS:
        op.execute(statement)
    op.drop_table("partner_share")
    op.drop_table("partner_idempotent_request")
    op.drop_index(op.f("ix_api_key_client_id"), table_name="api_key")
    op.drop_table("api_key")
    op.drop_table("partner_sharing_consent")
    op.drop_index("ix_partner_contact_person", table_name="partner_contact")
    op.drop_table("partner_contact")
    op.drop_index(op.f("ix_api_client_organisation_id"), table_name="api_client")
    op.drop_table("api_client")
    op.drop_index("ix_contact_change_xid", table_name="contact_change")
    op.drop_table("contact_change")
