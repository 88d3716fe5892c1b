"""Publications kept by staff; the public ones appear on `/archive`."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from crm.db.models.publication import PublicationKind
from crm.domain.auth.guards import requires_admin, requires_editor, requires_viewer
from crm.domain.providers import provide_publication_service
from crm.domain.publications.schemas import PublicationCreate, PublicationRead, PublicationUpdate
from crm.domain.publications.services import PublicationService
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.schemas import Page

SORTABLE = frozenset({"title", "published_on", "kind", "created_at"})


class PublicationController(Controller):
    path = "/api/v1/publications"
    tags = ["Publications"]
    guards = [requires_viewer]
    dependencies = {
        "publication_service": provide_publication_service,
        "listing": list_query(SORTABLE),
    }

    @get(
        "/",
        operation_id="listPublications",
        summary="List publications",
        description="Publications, newest first. `q` searches the title (accents and case forgiven).",
    )
    async def list_publications(
        self,
        publication_service: NamedDependency[PublicationService],
        listing: NamedDependency[ListQuery],
        kind: Annotated[PublicationKind | None, Parameter(description="Only this kind")] = None,
        is_public: Annotated[bool | None, Parameter(description="Only public (true) or internal (false)")] = None,
    ) -> Page[PublicationRead]:
        items, total = await publication_service.search(listing, SORTABLE, kind=kind, is_public=is_public)
        return Page[PublicationRead](**page([PublicationRead.model_validate(i) for i in items], total, listing))

    @get(
        "/{publication_id:uuid}",
        operation_id="getPublication",
        summary="One publication",
        description="A publication by id.",
    )
    async def get_publication(
        self, publication_service: NamedDependency[PublicationService], publication_id: FromPath[UUID]
    ) -> PublicationRead:
        return PublicationRead.model_validate(await publication_service.get(publication_id))

    @post(
        "/",
        guards=[requires_editor],
        operation_id="createPublication",
        summary="Create a publication",
        description="Title, kind, date, link, summary, cover image link, and whether it is on the public archive.",
    )
    async def create_publication(
        self, data: JSONBody[PublicationCreate], publication_service: NamedDependency[PublicationService]
    ) -> PublicationRead:
        return PublicationRead.model_validate(await publication_service.add(data.values()))

    @patch(
        "/{publication_id:uuid}",
        guards=[requires_editor],
        operation_id="updatePublication",
        summary="Change a publication",
        description="Changes the fields sent.",
    )
    async def update_publication(
        self,
        publication_id: FromPath[UUID],
        data: JSONBody[PublicationUpdate],
        publication_service: NamedDependency[PublicationService],
    ) -> PublicationRead:
        return PublicationRead.model_validate(await publication_service.change(publication_id, data.values()))

    @delete(
        "/{publication_id:uuid}",
        guards=[requires_admin],
        operation_id="deletePublication",
        summary="Delete a publication",
        description="Deletes the publication; campaigns that announced it keep their content.",
    )
    async def delete_publication(
        self, publication_id: FromPath[UUID], publication_service: NamedDependency[PublicationService]
    ) -> None:
        await publication_service.delete(publication_id)
