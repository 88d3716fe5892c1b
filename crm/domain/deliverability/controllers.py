"""Bounces and complaints for staff: the list to review, each delivery's bounce, and the rates
per campaign. What acts on them is `crm inbound` (crm.domain.deliverability.inbound)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter
from pydantic import Field

from crm.db.models.deliverability import BounceKind
from crm.domain.auth.guards import requires_admin, requires_editor, requires_viewer
from crm.domain.deliverability.services import BounceService, DkimKeyService
from crm.lib.dkim import DkimError, dns_name, dns_record
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.problems import ProblemError
from crm.lib.schemas import Page, Schema, SingleLine

SORTABLE = frozenset({"received_at", "kind", "status"})
provide_bounce_service = create_service_provider(BounceService)
provide_dkim_key_service = create_service_provider(DkimKeyService)


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

    @get(
        "/{bounce_id:uuid}",
        operation_id="getBounce",
        summary="Read one bounce or complaint",
        description="The report as parsed: its kind (hard, soft, complaint), status, diagnostic, the delivery and campaign it names, whether it suppressed the address, whether staff reviewed it.",
    )
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


class DkimKeyCreate(Schema):
    selector: SingleLine = Field(
        default="crm", min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]*$", description="The DNS selector"
    )
    domain: SingleLine | None = Field(
        default=None,
        max_length=253,
        pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$",
        description="The signing domain; the sender's domain when left out",
    )


class DkimKeyRead(Schema):
    id: UUID
    selector: str
    domain: str
    created_at: datetime
    dns_name: str = Field(description="Where to publish the TXT record")
    dns_txt: str = Field(description="The TXT record's value")


def _key_read(key: Any) -> DkimKeyRead:
    return DkimKeyRead(
        id=key.id,
        selector=key.selector,
        domain=key.domain,
        created_at=key.created_at,
        dns_name=dns_name(key.selector, key.domain),
        dns_txt=dns_record(key.public_key),
    )


class DkimKeyController(Controller):
    path = "/api/v1/dkim-keys"
    tags = ["Deliverability"]
    guards = [requires_admin]
    dependencies = {"dkim_key_service": provide_dkim_key_service, "listing": list_query(frozenset({"created_at"}))}

    @get(
        "/",
        operation_id="listDkimKeys",
        summary="List DKIM keys",
        description="Newest first (the newest signs campaign mail when CRM_DELIVERABILITY_DKIM_ENABLED is on), each "
        "with the DNS TXT record to publish. The private key is never shown.",
    )
    async def list_keys(
        self, dkim_key_service: NamedDependency[DkimKeyService], listing: NamedDependency[ListQuery]
    ) -> Page[DkimKeyRead]:
        items, total = await dkim_key_service.get_many_and_count(
            *listing.filters(frozenset({"created_at"}), "-created_at")
        )
        return Page[DkimKeyRead](**page([_key_read(k) for k in items], total, listing))

    @post(
        "/",
        operation_id="createDkimKey",
        summary="Generate a DKIM key pair",
        description="Makes an RSA 2048 key pair and answers the DNS TXT record to publish before turning "
        "signing on. 503 when the server cannot make keys (no openssl).",
    )
    async def create_key(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[DkimKeyCreate],
        dkim_key_service: NamedDependency[DkimKeyService],
    ) -> DkimKeyRead:
        settings = request.app.state.settings
        try:
            key = await dkim_key_service.generate(data.selector, data.domain or settings.organisation.mail_domain)
        except DkimError as exc:
            raise ProblemError(503, str(exc)) from exc
        return _key_read(key)
