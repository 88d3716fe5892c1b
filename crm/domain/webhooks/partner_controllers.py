"""The partner's own webhook endpoints (`/api/v1/partner/webhooks`): register, list, delete. The
partner is the API client's organisation (the `partner_client` dependency of
crm.domain.partners.auth, which answers 401 without a valid key): it never reaches another
partner's endpoints (404, as for a missing one)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from crm.config import WebhookSettings
from crm.domain.webhooks.controllers import WEBHOOK_DEPENDENCIES
from crm.domain.webhooks.schemas import EndpointCreate, EndpointRead, EndpointWithSecret
from crm.domain.webhooks.services import ENDPOINT_SORTABLE, WebhookEndpointService
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.problems import ProblemError
from crm.lib.schemas import Page

# Webhooks tell of contact changes: a client that may read contacts may be told of them.
SCOPE = "contacts:read"


def _organisation(partner_client: Any) -> UUID:
    if SCOPE not in partner_client.scopes:
        raise ProblemError(403, f"This needs the {SCOPE} scope", code="scope_missing", scope=SCOPE)
    return partner_client.organisation_id


class PartnerWebhookController(Controller):
    path = "/api/v1/partner/webhooks"
    tags = ["Partner API"]
    # The lead wires the partner guard of crm.domain.partners.auth here at merge.
    dependencies = WEBHOOK_DEPENDENCIES | {"listing": list_query(ENDPOINT_SORTABLE)}

    @get("/", operation_id="partnerListWebhooks", summary="Your webhook endpoints")
    async def list_endpoints(
        self,
        partner_client: NamedDependency[Any],
        webhook_service: NamedDependency[WebhookEndpointService],
        listing: NamedDependency[ListQuery],
    ) -> Page[EndpointRead]:
        items, total = await webhook_service.list_endpoints(listing, organisation_id=_organisation(partner_client))
        return Page[EndpointRead](**page(items, total, listing))

    @post(
        "/",
        operation_id="partnerRegisterWebhook",
        summary="Register a webhook endpoint",
        description="An https:// URL on a public address, the events (contact.created, contact.updated, "
        "contact.deleted); the answer holds the `whsec_` secret, shown only once. Messages are signed as "
        "Standard Webhooks says (webhook-id, webhook-timestamp, webhook-signature).",
    )
    async def register(
        self,
        data: JSONBody[EndpointCreate],
        partner_client: NamedDependency[Any],
        webhook_service: NamedDependency[WebhookEndpointService],
        webhook_settings: NamedDependency[WebhookSettings],
    ) -> EndpointWithSecret:
        return await webhook_service.register(_organisation(partner_client), data, webhook_settings)

    @delete("/{endpoint_id:uuid}", operation_id="partnerDeleteWebhook", summary="Delete a webhook endpoint")
    async def delete_endpoint(
        self,
        endpoint_id: FromPath[UUID],
        partner_client: NamedDependency[Any],
        webhook_service: NamedDependency[WebhookEndpointService],
    ) -> None:
        await webhook_service.remove(endpoint_id, organisation_id=_organisation(partner_client))
