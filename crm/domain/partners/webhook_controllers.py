"""The partner's own webhook endpoints (`/api/v1/partner/webhooks`): register, list, delete. The
partner is the API client's organisation (the key's guard answers 401 without a valid key, 403
without the `contacts:read` scope): it never reaches another partner's endpoints (404, as for a
missing one). What the endpoints are told comes from crm/domain/partners/webhook_feed.py."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from crm.config import WebhookSettings
from crm.domain.partners.auth import (
    PARTNER_API_PREFIX,
    PARTNER_DEPENDENCIES,
    PartnerClient,
    requires_partner_key,
    requires_scope,
)
from crm.domain.webhooks.controllers import WEBHOOK_DEPENDENCIES
from crm.domain.webhooks.schemas import EndpointCreate, EndpointRead, EndpointWithSecret
from crm.domain.webhooks.services import ENDPOINT_SORTABLE, WebhookEndpointService
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.schemas import Page

# Webhooks tell of contact changes: a client that may read contacts may be told of them.
READ = requires_scope("contacts:read")


class PartnerWebhookController(Controller):
    path = f"{PARTNER_API_PREFIX}/webhooks"
    tags = ["Partner API"]
    guards = [requires_partner_key]
    dependencies = {**PARTNER_DEPENDENCIES, **WEBHOOK_DEPENDENCIES, "listing": list_query(ENDPOINT_SORTABLE)}
    security = [{"partnerKey": []}]

    @get(
        "/",
        guards=[READ],
        operation_id="partnerListWebhooks",
        summary="Your webhook endpoints",
        description="The endpoints registered for your organisation, with whether each is enabled and, if not, why.",
    )
    async def list_endpoints(
        self,
        partner_client: NamedDependency[PartnerClient],
        webhook_service: NamedDependency[WebhookEndpointService],
        listing: NamedDependency[ListQuery],
    ) -> Page[EndpointRead]:
        items, total = await webhook_service.list_endpoints(listing, organisation_id=partner_client.organisation_id)
        return Page[EndpointRead](**page(items, total, listing))

    @post(
        "/",
        guards=[READ],
        operation_id="partnerRegisterWebhook",
        summary="Register a webhook endpoint",
        description="An https:// URL on a public address, the events (contact.created, contact.updated, "
        "contact.deleted); the answer holds the `whsec_` secret, shown only once. Messages are signed as "
        "Standard Webhooks says (webhook-id, webhook-timestamp, webhook-signature).",
    )
    async def register(
        self,
        data: JSONBody[EndpointCreate],
        partner_client: NamedDependency[PartnerClient],
        webhook_service: NamedDependency[WebhookEndpointService],
        webhook_settings: NamedDependency[WebhookSettings],
    ) -> EndpointWithSecret:
        return await webhook_service.register(partner_client.organisation_id, data, webhook_settings)

    @delete(
        "/{endpoint_id:uuid}",
        guards=[READ],
        operation_id="partnerDeleteWebhook",
        summary="Delete a webhook endpoint",
        description="Stops the messages to this endpoint; another partner's endpoint answers 404.",
    )
    async def delete_endpoint(
        self,
        endpoint_id: FromPath[UUID],
        partner_client: NamedDependency[PartnerClient],
        webhook_service: NamedDependency[WebhookEndpointService],
    ) -> None:
        await webhook_service.remove(endpoint_id, organisation_id=partner_client.organisation_id)
