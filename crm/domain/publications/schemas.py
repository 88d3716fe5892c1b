from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from crm.db.models.publication import PublicationKind
from crm.lib.schemas import Day, HttpLink, Schema


def _url(value: HttpLink | None) -> str | None:
    return None if value is None else str(value)


class PublicationRead(Schema):
    id: UUID
    title: str
    kind: PublicationKind
    published_on: date
    url: str | None
    summary: str | None
    cover_image_url: str | None
    is_public: bool = Field(description="Listed on the public archive page")
    created_at: datetime
    updated_at: datetime


class PublicationCreate(Schema):
    title: str = Field(min_length=1, max_length=300)
    kind: PublicationKind
    published_on: Day
    url: HttpLink | None = Field(default=None, description="http(s) link to the document")
    summary: str | None = Field(default=None, max_length=5000)
    cover_image_url: HttpLink | None = None
    is_public: bool = False

    def values(self) -> dict[str, object]:
        data = self.model_dump()
        data["url"] = _url(self.url)
        data["cover_image_url"] = _url(self.cover_image_url)
        return data


class PublicationUpdate(Schema):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    kind: PublicationKind | None = None
    published_on: Day | None = None
    url: HttpLink | None = None
    summary: str | None = Field(default=None, max_length=5000)
    cover_image_url: HttpLink | None = None
    is_public: bool | None = None

    def values(self) -> dict[str, object]:
        data = self.model_dump(exclude_unset=True)
        for key in ("url", "cover_image_url"):
            if key in data:
                data[key] = _url(getattr(self, key))
        return data
