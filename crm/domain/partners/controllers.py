"""The API clients' screens (admins) and the partner API (`/api/v1/partner/`, bearer keys)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from crm.domain.auth.guards import requires_admin
from crm.domain.partners import idempotency
from crm.domain.partners.auth import (
    PARTNER_API_PREFIX,
    PARTNER_DEPENDENCIES,
    PartnerClient,
    requires_partner_key,
    requires_scope,
)
from crm.domain.partners.schemas import (
    MAX_BATCH,
    ApiClientCreate,
    ApiClientRead,
    ApiClientRotate,
    ApiClientWithKey,
    ChangePage,
    ContactPage,
    PushAnswer,
    PushBatch,
    SharedContact,
)
from crm.domain.partners.services import ApiClientService, PartnerContactService
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.problems import PROBLEM_MEDIA_TYPE, Problem
from crm.lib.schemas import Page

SORTABLE = frozenset({"name", "created_at", "last_used_at"})


async def provide_api_client_service(db_session: NamedDependency[AsyncSession]) -> ApiClientService:
    return ApiClientService(session=db_session)


class ApiClientController(Controller):
    """Admins give partner organisations API access: the key is shown once, at creation and
    rotation."""

    path = "/api/v1/api-clients"
    tags = ["Partners"]
    guards = [requires_admin]
    dependencies = {"api_client_service": provide_api_client_service, "listing": list_query(SORTABLE)}

    @get("/", operation_id="listApiClients", summary="List API clients", description="Partner API clients and keys.")
    async def list_api_clients(
        self, api_client_service: NamedDependency[ApiClientService], listing: NamedDependency[ListQuery]
    ) -> Page[ApiClientRead]:
        items, total = await api_client_service.list_clients(listing, SORTABLE)
        return Page[ApiClientRead](**page(items, total, listing))

    @get("/{client_id:uuid}", operation_id="getApiClient", summary="One API client", description="With its keys.")
    async def get_api_client(
        self, client_id: FromPath[UUID], api_client_service: NamedDependency[ApiClientService]
    ) -> ApiClientRead:
        return await api_client_service.read(client_id)

    @post(
        "/",
        operation_id="createApiClient",
        summary="Create an API client",
        description="For a partner organisation, with its scopes. The answer holds the key, shown this once.",
    )
    async def create_api_client(
        self, data: JSONBody[ApiClientCreate], api_client_service: NamedDependency[ApiClientService]
    ) -> ApiClientWithKey:
        return await api_client_service.create_client(data)

    @post(
        "/{client_id:uuid}/rotate",
        operation_id="rotateApiClientKey",
        summary="Rotate the key",
        description="A new key (shown this once); the keys in use keep working `overlap_hours` more.",
        status_code=200,
    )
    async def rotate_api_client_key(
        self,
        client_id: FromPath[UUID],
        data: JSONBody[ApiClientRotate],
        api_client_service: NamedDependency[ApiClientService],
    ) -> ApiClientWithKey:
        return await api_client_service.rotate(client_id, data)

    @post(
        "/{client_id:uuid}/revoke",
        operation_id="revokeApiClient",
        summary="Revoke the client",
        description="Every key of the client stops working at once; the client stays for the audit log.",
        status_code=200,
    )
    async def revoke_api_client(
        self, client_id: FromPath[UUID], api_client_service: NamedDependency[ApiClientService]
    ) -> ApiClientRead:
        return await api_client_service.revoke(client_id)


# ---------------------------------------------------------------- the partner API

PARTNER_PROBLEMS = {
    401: "No API key, or a key that is unknown, revoked or expired (`Authorization: Bearer <key>`)",
    403: "The key lacks the scope this needs",
    409: "A request with this Idempotency-Key is still being processed",
    410: "The sync token or cursor has expired: start over with a full listing",
    413: "The body is too large",
    422: "The input parses but breaks the schema or a rule; `errors` names the fields",
    429: "Rate limit of the key reached: wait for the Retry-After seconds (RateLimit headers say where you stand)",
}


def _problems(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        s: ResponseSpec(
            data_container=Problem,
            description=PARTNER_PROBLEMS[s],
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for s in statuses
    }


async def provide_partner_contacts(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    partner_client: NamedDependency[PartnerClient],
) -> PartnerContactService:
    settings = request.app.state.settings
    return PartnerContactService(
        db_session, partner_client, settings.security.secret_key.get_secret_value(), settings.partner.sync_token_days
    )


class PartnerContactController(Controller):
    """Contacts, as a partner pushes and pulls them."""

    path = f"{PARTNER_API_PREFIX}/contacts"
    tags = ["Partner API"]
    guards = [requires_partner_key]
    dependencies = {**PARTNER_DEPENDENCIES, "partner_contacts": provide_partner_contacts}
    security = [{"partnerKey": []}]

    @post(
        "/batch",
        operation_id="partnerPushContacts",
        summary="Push contacts (up to 500)",
        description="Creates or updates each contact, matched on your `external_id`, then on `email`. Only the "
        "fields of the item schema may be sent (never consent to our lists, suppression, owner or notes); each "
        "item carries its `legal_basis` and proof. The answer has one result per item, in order: `created`, "
        "`updated`, `unchanged`, or `error` with the fields at fault; a bad item or a suppressed address never "
        "sinks the others. Needs `Idempotency-Key`: a replay with the same body gets the first answer again "
        "(`Idempotent-Replayed: true`), the same key with another body is a 422, a replay while the first runs "
        "is a 409.",
        guards=[requires_scope("contacts:write")],
        status_code=200,
        responses=_problems(401, 403, 409, 413, 422, 429),
    )
    async def partner_push_contacts(
        self,
        data: JSONBody[PushBatch],
        db_session: NamedDependency[AsyncSession],
        partner_client: NamedDependency[PartnerClient],
        partner_contacts: NamedDependency[PartnerContactService],
        idempotency_key: Annotated[
            str,
            HeaderParameter(
                name=idempotency.HEADER,
                min_length=1,
                max_length=idempotency.MAX_KEY_LENGTH,
                description="A fresh unique value (a UUID) per write, the same on a retry",
            ),
        ],
    ) -> Response[PushAnswer]:
        body = data.model_dump(mode="json")
        state = await idempotency.begin(db_session, partner_client.id, idempotency_key, body)
        if state.replay is not None:
            return Response(
                PushAnswer.model_validate(state.replay.response),
                status_code=state.replay.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
        answer = await partner_contacts.push(data.contacts)
        idempotency.remember(db_session, partner_client.id, state, 200, answer.model_dump(mode="json"))
        return Response(answer, status_code=200)

    @get(
        "/",
        operation_id="partnerListContacts",
        summary="List the contacts shared with you",
        description="Every contact shared with you (the person agreed to be shared with partners, and a convention "
        "with you is in force today), by id, a page at a time: send `next_cursor` back as `cursor` until it is "
        "null. The last page gives a `sync_token` for /contacts/changes.",
        guards=[requires_scope("contacts:read")],
        responses=_problems(401, 403, 410, 429),
    )
    async def partner_list_contacts(
        self,
        partner_contacts: NamedDependency[PartnerContactService],
        cursor: Annotated[str | None, Parameter(max_length=1000, description="From the previous page")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_BATCH, description="Page size")] = 100,
    ) -> ContactPage:
        return await partner_contacts.listing(cursor, limit)

    @get(
        "/changes",
        operation_id="partnerContactChanges",
        summary="What changed since your last call",
        description="Every change since the sync token was given, each exactly once, even when our writes commit "
        "out of order: the contact as it is now, or a tombstone (`deleted: true`) when it was deleted or is no "
        "longer shared with you. Call again with the new `sync_token` (at once while `has_more`). An expired "
        "token answers 410: start over with a full listing.",
        guards=[requires_scope("contacts:read")],
        responses=_problems(401, 403, 410, 429),
    )
    async def partner_contact_changes(
        self,
        partner_contacts: NamedDependency[PartnerContactService],
        sync_token: Annotated[str, Parameter(min_length=1, max_length=1000, description="From your last call")],
        limit: Annotated[int, Parameter(ge=1, le=MAX_BATCH, description="Changes per page")] = 100,
    ) -> ChangePage:
        return await partner_contacts.changes(sync_token, limit)

    @get(
        "/{contact_id:uuid}",
        operation_id="partnerGetContact",
        summary="One contact shared with you",
        description="404 for any id not shared with you.",
        guards=[requires_scope("contacts:read")],
        responses=_problems(401, 403, 429),
    )
    async def partner_get_contact(
        self, contact_id: FromPath[UUID], partner_contacts: NamedDependency[PartnerContactService]
    ) -> SharedContact:
        return await partner_contacts.one(contact_id)
