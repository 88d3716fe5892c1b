"""Who is calling the partner API, and may they: the bearer key checked, the client's scopes, the
per-key rate limit, the audit entry of each call.

A partner controller declares `guards = [requires_partner_key]` at class level (deny by default:
tests/test_role_matrix.py), one `requires_scope(...)` per handler, and takes the `partner_client` dependency (`PARTNER_DEPENDENCIES`), whose
value says which client calls (`.id`, `.name`, `.organisation_id`, `.scopes`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Message, Scope
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.audit_listener import record
from crm.domain.partners.keys import lookup_id_of, matches
from crm.lib.actor import Actor, current_actor
from crm.lib.client_address import request_address
from crm.lib.problems import ProblemError
from crm.lib.ratelimit import Window, use

# The partner API's base path (docs: "the partner API lives under /api/v1/partner/").
PARTNER_API_PREFIX = "/api/v1/partner"
STATE_KEY = "partner_client"
RATE_POLICY = "partner"
log = structlog.get_logger("crm.partners")


@dataclass(frozen=True, slots=True)
class PartnerClient:
    id: UUID
    name: str
    organisation_id: UUID
    scopes: frozenset[str]
    key_id: UUID


_LOOKUP = text(
    """
    SELECT k.id AS key_id, k.key_hash, k.expires_at, c.id, c.name, c.organisation_id, c.scopes, c.revoked_at
    FROM api_key k JOIN api_client c ON c.id = k.client_id
    WHERE k.lookup_id = :lookup_id
    """
)
# When and from where: written at most once a minute per key (or when the address changes), so
# that a busy key does not turn every read into a write on one hot row.
_TOUCH = text(
    """
    WITH touched AS (
        UPDATE api_key SET last_used_at = now(), last_used_from = :address
        WHERE id = :key_id
          AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'
               OR last_used_from IS DISTINCT FROM :address)
        RETURNING client_id
    )
    UPDATE api_client SET last_used_at = now(), last_used_from = :address
    WHERE id IN (SELECT client_id FROM touched)
    """
)


def _refuse(detail: str, code: str) -> ProblemError:
    return ProblemError(401, detail, code=code, headers={"WWW-Authenticate": 'Bearer realm="partner"'})


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise _refuse("Send your API key as `Authorization: Bearer <key>`", "api_key_missing")
    return key.strip()


async def requires_partner_key(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A valid, unrevoked, unexpired key within its rate limit; the client goes into the request's
    state and becomes the actor of what the request changes."""
    if connection.scope.get("method") == "OPTIONS":
        return  # Litestar's own answer naming the methods (a browser's preflight carries no key)
    key = _bearer(connection)
    app = connection.app
    # The size limit, told before the body is read (Litestar's own cap refuses bodies sent without
    # a Content-Length).
    length = connection.headers.get("content-length", "")
    if length.isdigit() and int(length) > app.state.settings.partner.max_body_bytes:
        raise ProblemError(413, f"The body is over {app.state.settings.partner.max_body_bytes} bytes", code="too_large")
    lookup_id = lookup_id_of(key)
    if lookup_id is None:  # not one of ours: no database round trip
        raise _refuse("This is not a valid API key", "api_key_invalid")
    engine = app.state.db_config.get_engine()
    async with engine.connect() as conn:
        row = (await conn.execute(_LOOKUP, {"lookup_id": lookup_id})).mappings().first()
        if row is None or not matches(key, row["key_hash"]):
            raise _refuse("This is not a valid API key", "api_key_invalid")
        now = datetime.now(UTC)
        if row["revoked_at"] is not None:
            raise _refuse("This API client was revoked", "api_key_revoked")
        if row["expires_at"] is not None and row["expires_at"] <= now:
            raise _refuse("This API key expired after a rotation: use the new one", "api_key_expired")
        await conn.execute(_TOUCH, {"key_id": row["key_id"], "address": request_address(connection)[:64]})
        await conn.commit()
    client = PartnerClient(
        id=row["id"],
        name=row["name"],
        organisation_id=row["organisation_id"],
        scopes=frozenset(row["scopes"]),
        key_id=row["key_id"],
    )
    await _count_call(connection, client)
    connection.scope["state"][STATE_KEY] = client
    current_actor.set(Actor(kind="partner", id=client.id, request_id=connection.scope["state"].get("request_id")))


async def _count_call(connection: ASGIConnection[Any, Any, Any, Any], client: PartnerClient) -> None:
    """One use of the key's window; past the limit, 429 with `Retry-After` and the RateLimit
    headers of the IETF httpapi draft (`RateLimit-Policy: "partner";q=600;w=60`,
    `RateLimit: "partner";r=0;t=12`)."""
    settings = connection.app.state.settings.partner
    window = Window(f"partner:rate:{client.key_id}", settings.rate_limit, settings.rate_window_seconds)
    count, reset = await use(connection.app.state.redis, window)
    headers = {
        "RateLimit-Policy": f'"{RATE_POLICY}";q={window.limit};w={window.seconds}',
        "RateLimit": f'"{RATE_POLICY}";r={max(0, window.limit - count)};t={reset}',
    }
    connection.scope["state"]["partner_rate_headers"] = headers
    if count > window.limit:
        log.info("partner_rate_limited", client_id=str(client.id))
        raise ProblemError(
            429,
            f"Rate limit of {window.limit} requests per {window.seconds} s reached for this key",
            code="rate_limited",
            headers={**headers, "Retry-After": str(reset)},
        )


def requires_scope(scope: str):  # type: ignore[no-untyped-def]
    """The scope a route needs, declared on the handler (the role matrix lists it)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        client = connection.scope["state"].get(STATE_KEY)
        if not isinstance(client, PartnerClient):
            raise _refuse("Send your API key as `Authorization: Bearer <key>`", "api_key_missing")
        if scope not in client.scopes:
            raise ProblemError(403, f"This needs the {scope} scope", code="scope_missing", scope=scope)

    guard.__name__ = "requires_scope_" + scope.replace(":", "_")
    guard.scope = scope  # type: ignore[attr-defined]
    return guard


async def provide_partner_client(
    request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
) -> PartnerClient:
    """The calling client, with the call in the audit log under the client's name (written with
    the request's work, so a call that fails leaves only what it changed: nothing)."""
    client = request.scope["state"].get(STATE_KEY)
    if not isinstance(client, PartnerClient):  # a route that forgot `requires_partner_key`
        raise _refuse("Send your API key as `Authorization: Bearer <key>`", "api_key_missing")
    record(
        db_session,
        "partner_call",
        "api_client",
        client.id,
        client=client.name,
        method=request.method,
        path=request.url.path,
    )
    return client


PARTNER_DEPENDENCIES = {"partner_client": Provide(provide_partner_client)}


async def send_rate_limit_headers(message: Message, scope: Scope) -> None:
    """`before_send` of the app: every answer to a counted partner call, errors included, tells
    the client where it stands in its window."""
    if message["type"] != "http.response.start":
        return
    headers = scope.get("state", {}).get("partner_rate_headers")
    if headers and "RateLimit" not in MutableScopeHeaders.from_message(message):
        mutable = MutableScopeHeaders.from_message(message)
        for name, value in headers.items():
            mutable[name] = value
