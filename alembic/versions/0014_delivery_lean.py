"""Starting a campaign of a million recipients in seconds: the delivery table's foreign keys cost
two thirds of writing its rows (PostgreSQL checks each row against `person` and `campaign` one by
one, and locks each person row it checks: a write to a million person rows), so they give way to
triggers that keep what they were for, the cascade when a person is erased or a campaign deleted.
The rows are written by one INSERT ... SELECT from the people themselves (crm.domain.campaigns.
services._write_deliveries), so a row cannot name a person or a campaign that is not there when it
is written. One unique index on (person, campaign) replaces the unique index on (campaign, person)
and the index on person: it serves both the uniqueness and the person's side; the campaign's side
is served by (campaign, status).

bench/campaign_start.py, 1,000,000 recipients: see docs/architecture.md.

Revision ID: 0014
Revises: 0013
Created: 2026-12-02 09:00:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The cascades the foreign keys gave, as statement-level triggers (one DELETE per statement that
# deletes people or campaigns, however many rows it deletes).
CASCADES = (
    """CREATE FUNCTION delivery_follow_person() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM delivery d USING gone WHERE d.person_id = gone.id;
    RETURN NULL;
END $$""",
    """CREATE TRIGGER delivery_follow_person AFTER DELETE ON person
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION delivery_follow_person()""",
    """CREATE FUNCTION delivery_follow_campaign() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM delivery d USING gone WHERE d.campaign_id = gone.id;
    RETURN NULL;
END $$""",
    """CREATE TRIGGER delivery_follow_campaign AFTER DELETE ON campaign
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION delivery_follow_campaign()""",
)


def upgrade() -> None:
    op.drop_constraint("fk_delivery_person_id_person", "delivery", type_="foreignkey")
    op.drop_constraint("fk_delivery_campaign_id_campaign", "delivery", type_="foreignkey")
    for statement in CASCADES:
        op.execute(statement)
    op.create_unique_constraint("uq_delivery_person_campaign", "delivery", ["person_id", "campaign_id"])
    op.drop_constraint("uq_delivery_campaign_person", "delivery", type_="unique")
    op.drop_index("ix_delivery_person_id", table_name="delivery")


def downgrade() -> None:
    op.create_index("ix_delivery_person_id", "delivery", ["person_id"], unique=False)
    op.create_unique_constraint("uq_delivery_campaign_person", "delivery", ["campaign_id", "person_id"])
    op.drop_constraint("uq_delivery_person_campaign", "delivery", type_="unique")
    for name, table in (("delivery_follow_campaign", "campaign"), ("delivery_follow_person", "person")):
        op.execute(f"DROP TRIGGER {name} ON {table}")
        op.execute(f"DROP FUNCTION {name}()")
    # Rows whose person or campaign went while there was no key would stop the keys coming back.
    op.execute("DELETE FROM delivery d WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.id = d.person_id)")
    op.execute("DELETE FROM delivery d WHERE NOT EXISTS (SELECT 1 FROM campaign c WHERE c.id = d.campaign_id)")
    op.create_foreign_key(
        "fk_delivery_campaign_id_campaign", "delivery", "campaign", ["campaign_id"], ["id"], ondelete="CASCADE"
    )
    op.create_foreign_key(
        "fk_delivery_person_id_person", "delivery", "person", ["person_id"], ["id"], ondelete="CASCADE"
    )
