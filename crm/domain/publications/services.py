"""Publications: reports, survey results, guides, motions; public ones are on the archive page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import func

from crm.db.models.publication import Publication, PublicationKind
from crm.lib.listing import ListQuery
from crm.lib.search import words
from crm.lib.services import Service

REQUIRED = ("title", "kind", "published_on", "is_public")


class PublicationService(Service[Publication]):
    async def add(self, values: dict[str, Any]) -> Publication:
        return await self.create(Publication(**values))

    async def change(self, publication_id: UUID, values: dict[str, Any]) -> Publication:
        publication = await self.get(publication_id)
        self.apply(publication, values, required=REQUIRED)
        return await self.update(publication)

    async def search(
        self,
        query: ListQuery,
        sortable: frozenset[str],
        *,
        kind: PublicationKind | None,
        is_public: bool | None,
    ) -> tuple[Sequence[Publication], int]:
        conditions: list[Any] = []
        if query.q:
            # Titles are few and short: the search function runs on them directly, word by word.
            title = func.crm_search_text(Publication.title)
            conditions.extend(func.strpos(title, func.crm_search_text(word)) > 0 for word in words(query.q))
        if kind is not None:
            conditions.append(Publication.kind == kind)
        if is_public is not None:
            conditions.append(Publication.is_public.is_(is_public))
        return await self.get_many_and_count(*query.filters(sortable, "-published_on"), *conditions)
