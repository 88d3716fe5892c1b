"""The Atlaas: the catalogue of the members' local digital actions, searchable by anyone once
published.

An action keeps its own fields (what was done, results, recommendations...), the places it
happened in (INSEE codes), the organisations it belongs to, the people who carried it, and the
themes it is filed under in a tree of four levels: axe › enjeu › usage › service.

For the public search, each action row also carries what the facets count (régions, départements,
population bands, label levels, organisation kinds, every theme with its ancestors) as arrays,
and a stored `tsvector` of its text (French stemming, accents forgiven): one row answers a search
and its facets without a join. `crm.domain.atlaas.facets` computes these columns; they are never
typed by anyone."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.models.organisation import pg_enum

# The text search configuration made by migration 0050: French stemming over unaccented words,
# so "médiathèques" and "Mediatheque" are the same lexeme.
SEARCH_CONFIG = "crm_french"


def _weighted(column: str, weight: str) -> str:
    return f"setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce({column}, '')), '{weight}')"


# Title first, then subtitle, places and themes, then the synthesis, then the rest.
SEARCH_DOCUMENT = " || ".join(
    (
        _weighted("title", "A"),
        _weighted("subtitle", "B"),
        # Hyphenated words joined as well: "wifi" finds "Wi-Fi", "tierslieu" finds "tiers-lieu".
        _weighted("translate(title || ' ' || coalesce(subtitle, ''), '-', '')", "B"),
        _weighted("theme_text", "B"),
        _weighted("place_text", "B"),
        _weighted("synthesis", "C"),
        _weighted("actions_carried_out", "D"),
        _weighted("results", "D"),
        _weighted("recommendations", "D"),
        _weighted("tools_text", "D"),
    )
)


class ActionStatus(enum.StrEnum):
    DRAFT = "draft"  # brouillon: staff only
    PUBLISHED = "published"  # publiée: anyone finds it


class ProposalStatus(enum.StrEnum):
    PENDING = "pending"  # en attente de modération
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Theme(Base):
    """A node of the theme tree: level 1 axe, 2 enjeu, 3 usage, 4 service."""

    __tablename__ = "atlaas_theme"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 4", name="level_1_to_4"),
        CheckConstraint("(level = 1) = (parent_id IS NULL)", name="only_axes_have_no_parent"),
        UniqueConstraint("parent_id", "name", name="uq_atlaas_theme_parent_name"),
    )

    parent_id: Mapped[UUID | None] = mapped_column(ForeignKey("atlaas_theme.id", ondelete="RESTRICT"), index=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(200))


class Action(Audited, Base):
    """An action of the Atlaas (une action)."""

    __tablename__ = "atlaas_action"
    __audit_ignore__ = frozenset({"search_document"})
    __table_args__ = (
        CheckConstraint("year BETWEEN 1990 AND 2100", name="year_plausible"),
        Index(
            "ix_atlaas_action_search",
            "search_document",
            postgresql_using="gin",
            # Bulk inserts (an import, the demo) must not leave a pending list every search reads.
            postgresql_with={"fastupdate": "off"},
        ),
        Index("ix_atlaas_action_themes", "theme_ids", postgresql_using="gin", postgresql_with={"fastupdate": "off"}),
        Index(
            "ix_atlaas_action_places",
            "departement_codes",
            "region_codes",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ),
        Index("ix_atlaas_action_status_year", "status", "year"),
    )

    title: Mapped[str] = mapped_column(String(300))
    subtitle: Mapped[str | None] = mapped_column(String(300))
    year: Mapped[int] = mapped_column(Integer)
    synthesis: Mapped[str | None] = mapped_column(Text)
    actions_carried_out: Mapped[str | None] = mapped_column(Text)  # actions menées
    results: Mapped[str | None] = mapped_column(Text)  # résultats
    recommendations: Mapped[str | None] = mapped_column(Text)  # recommandations
    links: Mapped[list[str]] = mapped_column(ARRAY(String(2000)), default=list)
    tools: Mapped[list[str]] = mapped_column(ARRAY(String(200)), default=list)  # outils
    providers: Mapped[list[str]] = mapped_column(ARRAY(String(200)), default=list)  # prestataires
    videos: Mapped[list[str]] = mapped_column(ARRAY(String(2000)), default=list)
    photos: Mapped[list[str]] = mapped_column(ARRAY(String(2000)), default=list)
    status: Mapped[ActionStatus] = mapped_column(pg_enum(ActionStatus, "atlaas_action_status"))
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))

    # Denormalised for the search and its facets (crm.domain.atlaas.facets), one value per place,
    # organisation or theme: an action of two communes counts once in each of their régions.
    insee_codes: Mapped[list[str]] = mapped_column(ARRAY(String(5)), default=list)
    departement_codes: Mapped[list[str]] = mapped_column(ARRAY(String(3)), default=list)
    region_codes: Mapped[list[str]] = mapped_column(ARRAY(String(3)), default=list)
    population_bands: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger), default=list)
    # The city's latest label level (1 to 5 "@"), 0 for a city without the label.
    label_levels: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger), default=list)
    organisation_kinds: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    # The themes chosen and all their ancestors: a search by axe finds the actions filed by service.
    theme_ids: Mapped[list[UUID]] = mapped_column(ARRAY(PG_UUID(as_uuid=True)), default=list)
    place_text: Mapped[str] = mapped_column(Text, default="")  # "Brest (29), Quimper (29)"
    theme_text: Mapped[str] = mapped_column(Text, default="")  # every theme's name, for the search
    tools_text: Mapped[str] = mapped_column(Text, default="")  # tools and providers, for the search
    search_document: Mapped[Any] = mapped_column(TSVECTOR, Computed(SEARCH_DOCUMENT, persisted=True))


class ActionPlace(Base):
    """A commune where the action took place; coordinates when known (the reference geography
    has none)."""

    __tablename__ = "atlaas_action_place"
    __table_args__ = (UniqueConstraint("action_id", "insee_code", name="uq_atlaas_action_place"),)

    action_id: Mapped[UUID] = mapped_column(ForeignKey("atlaas_action.id", ondelete="CASCADE"))
    insee_code: Mapped[str] = mapped_column(ForeignKey("ref_commune.insee_code"), index=True)
    latitude: Mapped[float | None] = mapped_column(Numeric(8, 5, asdecimal=False))
    longitude: Mapped[float | None] = mapped_column(Numeric(8, 5, asdecimal=False))


class ActionOrganisation(Base):
    """An organisation the action belongs to (one or more)."""

    __tablename__ = "atlaas_action_organisation"
    __table_args__ = (UniqueConstraint("action_id", "organisation_id", name="uq_atlaas_action_organisation"),)

    action_id: Mapped[UUID] = mapped_column(ForeignKey("atlaas_action.id", ondelete="CASCADE"))
    organisation_id: Mapped[UUID] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)


class ActionPerson(Base):
    """A person who carried the action (an elected official or staff), and their role in it."""

    __tablename__ = "atlaas_action_person"
    __table_args__ = (UniqueConstraint("action_id", "person_id", name="uq_atlaas_action_person"),)

    action_id: Mapped[UUID] = mapped_column(ForeignKey("atlaas_action.id", ondelete="CASCADE"))
    person_id: Mapped[UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    role: Mapped[str | None] = mapped_column(String(200))


class ActionTheme(Base):
    """A theme chosen for the action (the row's `theme_ids` adds their ancestors)."""

    __tablename__ = "atlaas_action_theme"
    __table_args__ = (UniqueConstraint("action_id", "theme_id", name="uq_atlaas_action_theme"),)

    action_id: Mapped[UUID] = mapped_column(ForeignKey("atlaas_action.id", ondelete="CASCADE"))
    theme_id: Mapped[UUID] = mapped_column(ForeignKey("atlaas_theme.id", ondelete="RESTRICT"), index=True)


class Proposal(Audited, Base):
    """What a member's contact proposed through a signed link: a new action (`action_id` empty)
    or changes to one; nothing of it is public until staff accept it."""

    __tablename__ = "atlaas_proposal"
    __table_args__ = (Index("ix_atlaas_proposal_status", "status", "created_at"),)

    action_id: Mapped[UUID | None] = mapped_column(ForeignKey("atlaas_action.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[UUID] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    # The action's fields as proposed (the shape of the staff's ActionWrite).
    values: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[ProposalStatus] = mapped_column(pg_enum(ProposalStatus, "atlaas_proposal_status"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    reviewed_by: Mapped[UUID | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    review_note: Mapped[str | None] = mapped_column(Text)
