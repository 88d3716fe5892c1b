"""Tags: free labels on organisations, people, conventions and memberships."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from crm.domain.auth.guards import requires_admin, requires_editor, requires_viewer
from crm.domain.providers import provide_tag_service
from crm.domain.tags.schemas import EntityType, TagCreate, TaggingCreate, TaggingRead, TagRead, TagUpdate
from crm.domain.tags.services import TagService
from crm.lib.listing import ListQuery, list_query, page, provide_list_query
from crm.lib.schemas import Page

SORTABLE = frozenset({"name", "created_at"})


class TagController(Controller):
    path = "/api/v1/tags"
    tags = ["Tags"]
    guards = [requires_viewer]
    dependencies = {
        "tag_service": provide_tag_service,
        "listing": list_query(SORTABLE),
    }

    @get(
        "/",
        operation_id="listTags",
        summary="List tags",
        description="Every tag with how many records carry it; `q` searches the names.",
    )
    async def list_tags(
        self, tag_service: NamedDependency[TagService], listing: NamedDependency[ListQuery]
    ) -> Page[TagRead]:
        items, total = await tag_service.list_tags(listing, SORTABLE)
        return Page[TagRead](**page(items, total, listing))

    @get("/{tag_id:uuid}", operation_id="getTag", summary="One tag", description="A tag by id.")
    async def get_tag(self, tag_id: FromPath[UUID], tag_service: NamedDependency[TagService]) -> TagRead:
        return await tag_service.read(tag_id)

    @post(
        "/",
        operation_id="createTag",
        summary="Create a tag",
        description='Tag names are unique whatever their case: a second "Congrès" or "congrès" is a conflict (409).',
        guards=[requires_editor],
    )
    async def create_tag(self, data: JSONBody[TagCreate], tag_service: NamedDependency[TagService]) -> TagRead:
        return await tag_service.create_tag(data)

    @patch(
        "/{tag_id:uuid}",
        operation_id="updateTag",
        summary="Rename or recolour a tag",
        description="Changes the fields sent; the records keep the tag.",
        guards=[requires_editor],
    )
    async def update_tag(
        self, tag_id: FromPath[UUID], data: JSONBody[TagUpdate], tag_service: NamedDependency[TagService]
    ) -> TagRead:
        return await tag_service.update_tag(tag_id, data)

    @delete(
        "/{tag_id:uuid}",
        operation_id="deleteTag",
        summary="Delete a tag",
        description="Deletes the tag and takes it off every record that carried it.",
        guards=[requires_admin],
    )
    async def delete_tag(self, tag_id: FromPath[UUID], tag_service: NamedDependency[TagService]) -> None:
        await tag_service.delete_tag(tag_id)

    @get(
        "/{tag_id:uuid}/taggings",
        operation_id="listTaggings",
        summary="What carries a tag",
        description="The records carrying the tag, latest tagged first, with a name to show for each.",
        # Always latest tagged first: no sort field to choose.
        dependencies={"listing": Provide(provide_list_query, sync_to_thread=False)},
    )
    async def list_taggings(
        self,
        tag_id: FromPath[UUID],
        tag_service: NamedDependency[TagService],
        listing: NamedDependency[ListQuery],
        entity_type: Annotated[EntityType | None, Parameter(description="Only records of this type")] = None,
    ) -> Page[TaggingRead]:
        items, total = await tag_service.taggings(tag_id, listing, entity_type)
        return Page[TaggingRead](**page(items, total, listing))

    @post(
        "/{tag_id:uuid}/taggings",
        operation_id="tagRecord",
        summary="Tag a record",
        description="Puts the tag on an organisation, person, convention or membership (201); a record that "
        "already carries it answers 200 unchanged. An unknown record is refused (422, naming entity_id).",
        guards=[requires_editor],
        status_code=HTTP_201_CREATED,
        responses={HTTP_200_OK: ResponseSpec(TaggingRead, description="The record already carried the tag")},
    )
    async def tag_record(
        self, tag_id: FromPath[UUID], data: JSONBody[TaggingCreate], tag_service: NamedDependency[TagService]
    ) -> Response[TaggingRead]:
        tagging, created = await tag_service.tag(tag_id, data)
        return Response(tagging, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @delete(
        "/{tag_id:uuid}/taggings/{entity_type:str}/{entity_id:uuid}",
        operation_id="untagRecord",
        summary="Untag a record",
        description="Takes the tag off the record; untagging a record that does not carry it does nothing.",
        guards=[requires_editor],
    )
    async def untag_record(
        self,
        tag_id: FromPath[UUID],
        entity_type: FromPath[EntityType],
        entity_id: FromPath[UUID],
        tag_service: NamedDependency[TagService],
    ) -> None:
        await tag_service.untag(tag_id, entity_type, entity_id)
