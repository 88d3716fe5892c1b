from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from crm.lib.schemas import NOTES_MAX, Schema

DEFINITION_HELP = (
    'A rule {"field", "op", "value"} or a group {"all": [...]}, {"any": [...]}, {"not": {...}}. Fields: '
    "organisation_kind, region_code, departement_code (eq, in), population (gte, lte, between "
    '{"min", "max"}), membership_status (eq, in), label (has {"year", "min_level", "green"}), '
    "position_title (contains), elected, board_member (eq true/false), list (eq, in: list ids), "
    "tag (eq, in: tag ids or names, on the person or their organisation)."
)


class SegmentRead(Schema):
    id: UUID
    name: str
    description: str | None
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class SegmentCreate(Schema):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=NOTES_MAX)
    definition: dict[str, Any] = Field(description=DEFINITION_HELP)


class SegmentUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=NOTES_MAX)
    definition: dict[str, Any] | None = Field(default=None, description=DEFINITION_HELP)


class SegmentPreviewRequest(Schema):
    definition: dict[str, Any] = Field(description=DEFINITION_HELP)


class SegmentMember(Schema):
    id: UUID
    name: str
    email: str | None
    organisation: str | None = Field(description="The organisation of a current position, if any")


class SegmentPreview(Schema):
    count: int
    sample: list[SegmentMember] = Field(description="Up to 10 people, by name")
