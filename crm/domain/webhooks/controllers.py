"""Staff routes of partner webhooks: endpoints (admins write, viewers read) and their deliveries
with the partner's answers, replays included."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK

from crm.config import WebhookSettings
from crm.db.models.webhook import WebhookDeliveryStatus
from crm.domain.auth.guards import requires_admin, requires_viewer
from crm.domain.providers import provide_webhook_endpoint_service
from crm.domain.webhooks import events
from crm.domain.webhooks.schemas import (
    DeliveryRead,
    EndpointDisable,
    EndpointRead,
    EndpointUpdate,
    EndpointWithSecret,
    ReplayCount,
    ReplayFailed,
    StaffEndpointCreate,
)
from crm.domain.webhooks.services import DELIVERY_SORTABLE, ENDPOINT_SORTABLE, WebhookEndpointService
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.schemas import Page
from crm.lib.services import after_commit


def provide_webhook_settings(request: Request[Any, Any, Any]) -> WebhookSettings:
    return request.app.state.settings.webhooks


def wake_after_commit(request: Request[Any, Any, Any], service: WebhookEndpointService) -> None:
    """Deliveries written by this request go out as soon as it is committed."""
    redis = request.app.state.redis
    after_commit(service.session, lambda: events.wake(redis))


WEBHOOK_DEPENDENCIES: dict[str, Any] = {
    "webhook_service": provide_webhook_endpoint_service,
    "webhook_settings": Provide(provide_webhook_settings, sync_to_thread=False),
}


class WebhookEndpointController(Controller):
    path = "/api/v1/webhooks"
    tags = ["Partners"]
    guards = [requires_viewer]
    dependencies = WEBHOOK_DEPENDENCIES | {"listing": list_query(ENDPOINT_SORTABLE)}

    @get(
        "/",
        operation_id="listWebhookEndpoints",
        summary="List webhook endpoints",
        description="Partners' endpoints, with why and when a disabled one was disabled. `q` searches the URL.",
    )
    async def list_endpoints(
        self,
        webhook_service: NamedDependency[WebhookEndpointService],
        listing: NamedDependency[ListQuery],
        organisation_id: Annotated[UUID | None, Parameter(description="Only this partner's")] = None,
        enabled: Annotated[bool | None, Parameter(description="Only enabled (true) or disabled (false)")] = None,
    ) -> Page[EndpointRead]:
        items, total = await webhook_service.list_endpoints(listing, organisation_id=organisation_id, enabled=enabled)
        return Page[EndpointRead](**page(items, total, listing))

    @get(
        "/{endpoint_id:uuid}",
        operation_id="getWebhookEndpoint",
        summary="One webhook endpoint",
        description="Its URL, events, whether it is enabled (and why not, since when), when its secret was rotated; never the secret.",
    )
    async def get_endpoint(
        self, endpoint_id: FromPath[UUID], webhook_service: NamedDependency[WebhookEndpointService]
    ) -> EndpointRead:
        return await webhook_service.read(endpoint_id)

    @post(
        "/",
        operation_id="createWebhookEndpoint",
        summary="Register a partner's endpoint",
        description="An https:// URL whose name resolves to public addresses only (never loopback, private, "
        "link-local...), the events it receives, and a `whsec_` secret shown in this answer only.",
        guards=[requires_admin],
    )
    async def create_endpoint(
        self,
        data: JSONBody[StaffEndpointCreate],
        webhook_service: NamedDependency[WebhookEndpointService],
        webhook_settings: NamedDependency[WebhookSettings],
    ) -> EndpointWithSecret:
        return await webhook_service.register(data.organisation_id, data, webhook_settings)

    @patch(
        "/{endpoint_id:uuid}",
        operation_id="updateWebhookEndpoint",
        summary="Change an endpoint",
        description="URL (checked again), events, description.",
        guards=[requires_admin],
    )
    async def update_endpoint(
        self,
        endpoint_id: FromPath[UUID],
        data: JSONBody[EndpointUpdate],
        webhook_service: NamedDependency[WebhookEndpointService],
        webhook_settings: NamedDependency[WebhookSettings],
    ) -> EndpointRead:
        return await webhook_service.change(endpoint_id, data, webhook_settings)

    @delete(
        "/{endpoint_id:uuid}",
        operation_id="deleteWebhookEndpoint",
        summary="Delete an endpoint",
        description="Deletes it and its deliveries.",
        guards=[requires_admin],
    )
    async def delete_endpoint(
        self, endpoint_id: FromPath[UUID], webhook_service: NamedDependency[WebhookEndpointService]
    ) -> None:
        await webhook_service.remove(endpoint_id)

    @post(
        "/{endpoint_id:uuid}/rotate-secret",
        operation_id="rotateWebhookSecret",
        summary="Rotate the signing secret",
        description="A new secret, shown in this answer only; the old one signs beside it "
        "(two signatures) for CRM_WEBHOOKS_ROTATION_OVERLAP_HOURS.",
        guards=[requires_admin],
        status_code=HTTP_200_OK,
    )
    async def rotate_secret(
        self,
        endpoint_id: FromPath[UUID],
        webhook_service: NamedDependency[WebhookEndpointService],
        webhook_settings: NamedDependency[WebhookSettings],
    ) -> EndpointWithSecret:
        return await webhook_service.rotate_secret(endpoint_id, webhook_settings)

    @post(
        "/{endpoint_id:uuid}/enable",
        operation_id="enableWebhookEndpoint",
        summary="Enable an endpoint again",
        description="Forgets the failures; replay what failed meanwhile with `/replay`.",
        guards=[requires_admin],
        status_code=HTTP_200_OK,
    )
    async def enable_endpoint(
        self, endpoint_id: FromPath[UUID], webhook_service: NamedDependency[WebhookEndpointService]
    ) -> EndpointRead:
        return await webhook_service.enable(endpoint_id)

    @post(
        "/{endpoint_id:uuid}/disable",
        operation_id="disableWebhookEndpoint",
        summary="Disable an endpoint",
        description="Nothing more is sent to it; the reason is shown.",
        guards=[requires_admin],
        status_code=HTTP_200_OK,
    )
    async def disable_endpoint(
        self,
        endpoint_id: FromPath[UUID],
        data: JSONBody[EndpointDisable],
        webhook_service: NamedDependency[WebhookEndpointService],
    ) -> EndpointRead:
        return await webhook_service.disable(endpoint_id, data.reason)

    @post(
        "/{endpoint_id:uuid}/replay",
        operation_id="replayWebhookDeliveries",
        summary="Replay failed deliveries",
        description="Sends again every failed or skipped delivery of the endpoint created since `since` "
        "(each once), with its first webhook-id.",
        guards=[requires_admin],
        status_code=HTTP_200_OK,
    )
    async def replay_failed(
        self,
        request: Request[Any, Any, Any],
        endpoint_id: FromPath[UUID],
        data: JSONBody[ReplayFailed],
        webhook_service: NamedDependency[WebhookEndpointService],
    ) -> ReplayCount:
        replayed = await webhook_service.replay_failed(endpoint_id, data.since)
        wake_after_commit(request, webhook_service)
        return ReplayCount(replayed=replayed)


class WebhookDeliveryController(Controller):
    path = "/api/v1/webhook-deliveries"
    tags = ["Partners"]
    guards = [requires_viewer]
    dependencies = WEBHOOK_DEPENDENCIES | {"listing": list_query(DELIVERY_SORTABLE)}

    @get(
        "/",
        operation_id="listWebhookDeliveries",
        summary="List webhook deliveries",
        description="Recent deliveries, newest first, each with the partner's last answer. `q` finds a webhook-id.",
    )
    async def list_deliveries(
        self,
        webhook_service: NamedDependency[WebhookEndpointService],
        listing: NamedDependency[ListQuery],
        endpoint_id: Annotated[UUID | None, Parameter(description="Only this endpoint's")] = None,
        organisation_id: Annotated[UUID | None, Parameter(description="Only this partner's")] = None,
        status: Annotated[WebhookDeliveryStatus | None, Parameter(description="Only this status")] = None,
    ) -> Page[DeliveryRead]:
        items, total = await webhook_service.list_deliveries(
            listing, endpoint_id=endpoint_id, organisation_id=organisation_id, status=status
        )
        return Page[DeliveryRead](**page(items, total, listing))

    @post(
        "/{delivery_id:uuid}/replay",
        operation_id="replayWebhookDelivery",
        summary="Replay one delivery",
        description="Sends it again as a new delivery with the same webhook-id and body.",
        guards=[requires_admin],
    )
    async def replay(
        self,
        request: Request[Any, Any, Any],
        delivery_id: FromPath[UUID],
        webhook_service: NamedDependency[WebhookEndpointService],
    ) -> DeliveryRead:
        delivery = await webhook_service.replay(delivery_id)
        wake_after_commit(request, webhook_service)
        return delivery
