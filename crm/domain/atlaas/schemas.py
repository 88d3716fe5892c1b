"""Shapes of the Atlaas API: what staff (and an accepted proposal) write, what anyone reads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from crm.db.models.atlaas import ActionStatus, ProposalStatus
from crm.lib.schemas import HttpLink, Schema, SingleLine

MAX_LIST = 30
ShortLine = Annotated[SingleLine, Field(min_length=1, max_length=200)]  # a tool's or a provider's name
TEXT = 20_000


class PlaceWrite(Schema):
    insee_code: str = Field(min_length=1, max_length=10, description="INSEE code of the commune (not the postal code)")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class PersonInvolved(Schema):
    person_id: UUID
    role: SingleLine | None = Field(default=None, max_length=200, description="e.g. adjointe au numérique, DSI")


# The fields of an action that anyone may type (staff, a proposal, an import row): `links` are the
# relations to other records, checked against what is stored.
CONTENT_FIELDS = (
    "title",
    "subtitle",
    "year",
    "synthesis",
    "actions_carried_out",
    "results",
    "recommendations",
    "links",
    "tools",
    "providers",
    "videos",
    "photos",
)
RELATION_FIELDS = ("places", "organisation_ids", "people", "theme_ids")


class ActionContent(Schema):
    """An action's own fields; a proposal carries these and the places and themes."""

    title: SingleLine = Field(min_length=1, max_length=300)
    subtitle: SingleLine | None = Field(default=None, max_length=300)
    year: int = Field(ge=1990, le=2100)
    synthesis: str | None = Field(default=None, max_length=TEXT)
    actions_carried_out: str | None = Field(default=None, max_length=TEXT, description="Actions menées")
    results: str | None = Field(default=None, max_length=TEXT)
    recommendations: str | None = Field(default=None, max_length=TEXT)
    links: list[HttpLink] = Field(default_factory=list, max_length=MAX_LIST)
    tools: list[ShortLine] = Field(default_factory=list, max_length=MAX_LIST)
    providers: list[ShortLine] = Field(default_factory=list, max_length=MAX_LIST, description="Prestataires")
    videos: list[HttpLink] = Field(default_factory=list, max_length=MAX_LIST)
    photos: list[HttpLink] = Field(default_factory=list, max_length=MAX_LIST)
    places: list[PlaceWrite] = Field(min_length=1, max_length=MAX_LIST)
    theme_ids: list[UUID] = Field(default_factory=list, max_length=MAX_LIST)

    def values(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_unset=False)
        return data


class ActionWrite(ActionContent):
    organisation_ids: list[UUID] = Field(min_length=1, max_length=MAX_LIST)
    people: list[PersonInvolved] = Field(default_factory=list, max_length=MAX_LIST)
    status: ActionStatus = ActionStatus.DRAFT


class ActionUpdate(Schema):
    title: SingleLine | None = Field(default=None, min_length=1, max_length=300)
    subtitle: SingleLine | None = Field(default=None, max_length=300)
    year: int | None = Field(default=None, ge=1990, le=2100)
    synthesis: str | None = Field(default=None, max_length=TEXT)
    actions_carried_out: str | None = Field(default=None, max_length=TEXT)
    results: str | None = Field(default=None, max_length=TEXT)
    recommendations: str | None = Field(default=None, max_length=TEXT)
    links: list[HttpLink] | None = Field(default=None, max_length=MAX_LIST)
    tools: list[ShortLine] | None = Field(default=None, max_length=MAX_LIST)
    providers: list[ShortLine] | None = Field(default=None, max_length=MAX_LIST)
    videos: list[HttpLink] | None = Field(default=None, max_length=MAX_LIST)
    photos: list[HttpLink] | None = Field(default=None, max_length=MAX_LIST)
    places: list[PlaceWrite] | None = Field(default=None, min_length=1, max_length=MAX_LIST)
    theme_ids: list[UUID] | None = Field(default=None, max_length=MAX_LIST)
    organisation_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=MAX_LIST)
    people: list[PersonInvolved] | None = Field(default=None, max_length=MAX_LIST)

    def values(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class PlaceRead(Schema):
    insee_code: str
    name: str
    population: int | None
    departement_code: str
    departement: str | None
    region_code: str
    region: str | None
    latitude: float | None
    longitude: float | None


class ThemeRef(Schema):
    id: UUID
    level: int
    name: str
    path: list[str] = Field(description="Names from the axe down to this theme")


class NamedRef(Schema):
    id: UUID
    name: str
    kind: str | None = None
    role: str | None = None


class ActionRead(Schema):
    id: UUID
    title: str
    subtitle: str | None
    year: int
    synthesis: str | None
    actions_carried_out: str | None
    results: str | None
    recommendations: str | None
    links: list[str]
    tools: list[str]
    providers: list[str]
    videos: list[str]
    photos: list[str]
    status: ActionStatus
    published_at: datetime | None
    places: list[PlaceRead]
    themes: list[ThemeRef]
    organisations: list[NamedRef]
    people: list[NamedRef]
    organisation_ids: list[UUID] = Field(description="The organisations' ids, as written")
    theme_ids: list[UUID] = Field(description="The themes chosen, as written")
    url: str = Field(description="The action's public page (shareable once published)")
    created_at: datetime
    updated_at: datetime


class ActionSummary(Schema):
    id: UUID
    title: str
    subtitle: str | None
    year: int
    status: ActionStatus
    city: str = Field(description="The communes, with their département")
    themes: list[ThemeRef]
    url: str


class FacetValue(Schema):
    value: str
    label: str
    count: int
    level: int | None = Field(default=None, description="Themes: 1 axe, 2 enjeu, 3 usage, 4 service")


class SearchPage(Schema):
    items: list[ActionSummary]
    total: int
    limit: int
    offset: int
    facets: dict[str, list[FacetValue]]


class ThemeCreate(Schema):
    name: SingleLine = Field(min_length=1, max_length=200)
    parent_id: UUID | None = Field(default=None, description="Empty for an axe (level 1)")


class ThemeRead(Schema):
    id: UUID
    parent_id: UUID | None
    level: int
    name: str


class Change(Schema):
    field: str
    before: Any
    after: Any


class ProposalRead(Schema):
    id: UUID
    action_id: UUID | None
    person_id: UUID
    organisation_id: UUID
    status: ProposalStatus
    values: dict[str, Any]
    changes: list[Change] = Field(description="What accepting would change, field by field")
    created_at: datetime
    reviewed_at: datetime | None
    review_note: str | None


class ProposalLinkCreate(Schema):
    person_id: UUID
    organisation_id: UUID
    action_id: UUID | None = Field(default=None, description="To propose changes to this action; empty for a new one")


class ProposalLink(Schema):
    url: str


class Review(Schema):
    note: str | None = Field(default=None, max_length=5000)
    publish: bool = Field(default=True, description="Accepting publishes the action at once")
