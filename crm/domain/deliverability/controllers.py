"""Bounces and complaints for staff: the list to review, each delivery's bounce, and the rates
per campaign. What acts on them is `crm inbound` (crm.domain.deliverability.inbound)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller, get, patch
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter
from pydantic import Field

from crm.db.models.deliverability import BounceKind
from crm.domain.auth.guards import requires_editor, requires_viewer
from crm.domain.deliverability.services import BounceService
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.schemas import Page, Schema

SORTABLE = frozenset({"received_at", "kind", "status"})
provide_bounce_service = create_service_provider(BounceService)


class BounceRead(Schema):
    id: UUID
    delivery_id: UUID | None
    campaign_id: UUID | None
    person_id: UUID | None
    kind: BounceKind
    status: str | None = Field(description="RFC 3463 status, e.g. 5.1.1")
    action: str | None = Field(description="failed, delayed (RFC 3464)")
    diagnostic: str | None
    reporter: str | None
    received_at: datetime
    suppressed: bool = Field(description="Whether this report put the address on the suppression list")
    reviewed: bool


class BounceReview(Schema):
    reviewed: bool


class CampaignBounceRate(Schema):
    campaign_id: UUID
    campaign_name: str
    started_at: datetime | None
    sent: int
    hard_bounces: int
    soft_bounces: int
    complaints: int
    hard_bounce_rate: float
    soft_bounce_rate: float
    complaint_rate: float


class BounceController(Controller):
    path = "/api/v1/bounces"
    tags = ["Deliverability"]
    guards = [requires_viewer]
    dependencies = {"bounce_service": provide_bounce_service, "listing": list_query(SORTABLE)}

    @get(
        "/",
        operation_id="listBounces",
        summary="List bounces and complaints",
        description="Newest first: each report with the delivery it names, its status and diagnostic, and "
        "whether it suppressed the address. Filter by campaign_id, delivery_id, kind, reviewed.",
    )
    async def list_bounces(
        self,
        bounce_service: NamedDependency[BounceService],
        listing: NamedDependency[ListQuery],
        campaign_id: Annotated[UUID | None, Parameter(description="One campaign's reports")] = None,
        delivery_id: Annotated[UUID | None, Parameter(description="One delivery's reports")] = None,
        kind: Annotated[BounceKind | None, Parameter(description="hard, soft or complaint")] = None,
        reviewed: Annotated[bool | None, Parameter(description="Reviewed by staff or not")] = None,
    ) -> Page[BounceRead]:
        items, total = await bounce_service.search(
            listing, SORTABLE, campaign_id=campaign_id, delivery_id=delivery_id, kind=kind, reviewed=reviewed
        )
        return Page[BounceRead](**page([BounceRead.model_validate(i) for i in items], total, listing))

    @get(
        "/rates",
        operation_id="listBounceRates",
        summary="Bounce and complaint rates per campaign",
        description="Per campaign that went out, newest first: messages sent and the share of them that "
        "bounced (hard, soft) or drew a complaint. `q` and `sort` are not used.",
    )
    async def bounce_rates(
        self, bounce_service: NamedDependency[BounceService], listing: NamedDependency[ListQuery]
    ) -> Page[CampaignBounceRate]:
        items, total = await bounce_service.rates(listing.limit, listing.offset)
        return Page[CampaignBounceRate](**page([CampaignBounceRate(**i) for i in items], total, listing))

    @get("/{bounce_id:uuid}", operation_id="getBounce", summary="Read one bounce or complaint")
    async def get_bounce(self, bounce_id: FromPath[UUID], bounce_service: NamedDependency[BounceService]) -> BounceRead:
        return BounceRead.model_validate(await bounce_service.get(bounce_id))

    @patch(
        "/{bounce_id:uuid}",
        operation_id="reviewBounce",
        summary="Mark a bounce as reviewed",
        description="Takes it off (or puts it back on) the list to review.",
        guards=[requires_editor],
    )
    async def review_bounce(
        self, bounce_id: FromPath[UUID], data: JSONBody[BounceReview], bounce_service: NamedDependency[BounceService]
    ) -> BounceRead:
        return BounceRead.model_validate(await bounce_service.mark_reviewed(bounce_id, data.reviewed))
