"""Tags and what carries them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from crm.lib.schemas import Schema

# The records a tag can be put on (each a table name).
EntityType = Literal["organisation", "person", "convention", "membership"]


class TagCreate(Schema):
    name: str = Field(min_length=1, max_length=100)
    color: str | None = Field(default=None, max_length=20, description="For the admin app, e.g. #1f77b4")


class TagUpdate(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    color: str | None = Field(default=None, max_length=20)


class TagRead(Schema):
    id: UUID
    name: str
    color: str | None
    usage_count: int = Field(description="How many records carry it")
    created_at: datetime


class TaggingCreate(Schema):
    entity_type: EntityType
    entity_id: UUID


class TaggingRead(Schema):
    tag_id: UUID
    entity_type: str
    entity_id: UUID
    label: str = Field(description="The record's name, for display")
    tagged_at: datetime
