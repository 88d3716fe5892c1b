"""Segments: saved filters over the CRM, with a live preview (count and sample)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from crm.domain.auth.guards import requires_admin, requires_editor, requires_viewer
from crm.domain.providers import provide_segment_service
from crm.domain.segments.schemas import (
    SegmentCreate,
    SegmentPreview,
    SegmentPreviewRequest,
    SegmentRead,
    SegmentUpdate,
)
from crm.domain.segments.services import SegmentService
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.schemas import Page

SORTABLE = frozenset({"name", "created_at", "updated_at"})


class SegmentController(Controller):
    path = "/api/v1/segments"
    tags = ["Segments"]
    guards = [requires_viewer]
    dependencies = {
        "segment_service": provide_segment_service,
        "listing": list_query(SORTABLE),
    }

    @get(
        "/",
        operation_id="listSegments",
        summary="List segments",
        description="Saved segments. `q` searches the name.",
    )
    async def list_segments(
        self, segment_service: NamedDependency[SegmentService], listing: NamedDependency[ListQuery]
    ) -> Page[SegmentRead]:
        items, total = await segment_service.search(listing, SORTABLE)
        return Page[SegmentRead](**page([SegmentRead.model_validate(i) for i in items], total, listing))

    @get(
        "/{segment_id:uuid}",
        operation_id="getSegment",
        summary="One segment",
        description="A segment by id, with its definition.",
    )
    async def get_segment(
        self, segment_service: NamedDependency[SegmentService], segment_id: FromPath[UUID]
    ) -> SegmentRead:
        return SegmentRead.model_validate(await segment_service.get(segment_id))

    @get(
        "/{segment_id:uuid}/preview",
        operation_id="previewSegment",
        summary="Preview a segment",
        description="How many people the segment selects right now, and ten of them by name.",
    )
    async def preview_segment(
        self, segment_service: NamedDependency[SegmentService], segment_id: FromPath[UUID]
    ) -> SegmentPreview:
        segment = await segment_service.get(segment_id)
        return SegmentPreview.model_validate(await segment_service.preview(segment.definition))

    @post(
        "/preview",
        operation_id="previewSegmentDefinition",
        summary="Preview an unsaved definition",
        description="The live count and a sample for a definition being written; nothing is saved.",
        status_code=200,
    )
    async def preview_definition(
        self, data: JSONBody[SegmentPreviewRequest], segment_service: NamedDependency[SegmentService]
    ) -> SegmentPreview:
        return SegmentPreview.model_validate(await segment_service.preview(data.definition))

    @post(
        "/",
        guards=[requires_editor],
        operation_id="createSegment",
        summary="Create a segment",
        description="Saves a definition; an invalid one is refused with the place at fault named "
        "(e.g. `definition.all[1].field`).",
    )
    async def create_segment(
        self, data: JSONBody[SegmentCreate], segment_service: NamedDependency[SegmentService]
    ) -> SegmentRead:
        return SegmentRead.model_validate(await segment_service.add(data.model_dump()))

    @patch(
        "/{segment_id:uuid}",
        guards=[requires_editor],
        operation_id="updateSegment",
        summary="Change a segment",
        description="Changes the fields sent.",
    )
    async def update_segment(
        self,
        segment_id: FromPath[UUID],
        data: JSONBody[SegmentUpdate],
        segment_service: NamedDependency[SegmentService],
    ) -> SegmentRead:
        return SegmentRead.model_validate(await segment_service.change(segment_id, data.model_dump(exclude_unset=True)))

    @delete(
        "/{segment_id:uuid}",
        guards=[requires_admin],
        operation_id="deleteSegment",
        summary="Delete a segment",
        description="Deletes a saved segment; campaigns that used it keep their recipients.",
    )
    async def delete_segment(
        self, segment_id: FromPath[UUID], segment_service: NamedDependency[SegmentService]
    ) -> None:
        await segment_service.delete(segment_id)
