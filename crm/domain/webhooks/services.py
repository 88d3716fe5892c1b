"""Partner webhook endpoints: registration (URL checked against SSRF), secrets and their rotation,
enabling and disabling, and replays. Staff controllers and the partner controller call the same
methods; a partner's calls pass its own organisation id, so that it never sees another's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from advanced_alchemy.exceptions import NotFoundError
from sqlalchemy import ColumnElement, Table, func, insert, literal, select

from crm.config import WebhookSettings
from crm.db.models.organisation import Organisation
from crm.db.models.webhook import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from crm.domain.webhooks import addresses, signing
from crm.domain.webhooks.schemas import (
    DeliveryRead,
    EndpointCreate,
    EndpointRead,
    EndpointUpdate,
    EndpointWithSecret,
)
from crm.lib.listing import ListQuery
from crm.lib.problems import invalid
from crm.lib.services import Service

ENDPOINT_SORTABLE = frozenset({"created_at", "url", "enabled", "disabled_at"})
DELIVERY_SORTABLE = frozenset({"created_at", "status", "next_attempt_at", "sent_at", "event_type"})
# How many characters of a secret are shown to tell two apart (the prefix and a few more).
HINT = len(signing.PREFIX) + 4
REPLAYABLE = (WebhookDeliveryStatus.FAILED, WebhookDeliveryStatus.SKIPPED)


def endpoint_read(endpoint: WebhookEndpoint, *, secret: bool = False) -> EndpointRead:
    values: dict[str, Any] = {
        name: getattr(endpoint, name) for name in EndpointRead.model_fields if name != "secret_hint"
    }
    values["secret_hint"] = endpoint.secret[:HINT] + "…"
    if secret:
        return EndpointWithSecret(**values, secret=endpoint.secret)
    return EndpointRead(**values)


def delivery_read(delivery: WebhookDelivery) -> DeliveryRead:
    values = {name: getattr(delivery, name) for name in DeliveryRead.model_fields if name != "response"}
    return DeliveryRead(**values, response=delivery.smtp_response)


class WebhookEndpointService(Service[WebhookEndpoint]):
    async def _check_url(self, url: str, settings: WebhookSettings) -> str:
        reason = await addresses.check_url(url, allow_loopback=settings.allow_loopback)
        if reason is not None:
            raise invalid("url", reason, code="webhook_url_refused", reason=reason)
        return url

    async def _endpoint(self, endpoint_id: UUID, organisation_id: UUID | None) -> WebhookEndpoint:
        """One endpoint; with `organisation_id` (a partner's call), only one of its own: another
        partner's is as unknown as a missing one (404)."""
        endpoint = await self.get_one_or_none(id=endpoint_id)
        if endpoint is None or (organisation_id is not None and endpoint.organisation_id != organisation_id):
            raise NotFoundError("No such webhook endpoint")
        return endpoint

    async def register(
        self, organisation_id: UUID, data: EndpointCreate, settings: WebhookSettings
    ) -> EndpointWithSecret:
        """A new endpoint of a partner, with its secret (shown once, in this answer)."""
        organisation = await self.session.get(Organisation, organisation_id)
        if organisation is None or not organisation.is_partner:
            raise invalid("organisation_id", "must be a partner organisation", code="not_a_partner")
        endpoint = await self.create(
            WebhookEndpoint(
                organisation_id=organisation_id,
                url=await self._check_url(data.url, settings),
                description=data.description,
                event_types=sorted({e.value for e in data.event_types}),
                secret=signing.new_secret(),
                enabled=True,
            )
        )
        return endpoint_read(endpoint, secret=True)  # type: ignore[return-value]

    async def list_endpoints(
        self, listing: ListQuery, *, organisation_id: UUID | None = None, enabled: bool | None = None
    ) -> tuple[list[EndpointRead], int]:
        conditions: list[ColumnElement[bool]] = []
        if organisation_id is not None:
            conditions.append(WebhookEndpoint.organisation_id == organisation_id)
        if enabled is not None:
            conditions.append(WebhookEndpoint.enabled.is_(enabled))
        if listing.q:
            conditions.append(WebhookEndpoint.url.icontains(listing.q, autoescape=True))
        items, total = await self.get_many_and_count(*listing.filters(ENDPOINT_SORTABLE, "-created_at"), *conditions)
        return [endpoint_read(e) for e in items], total

    async def read(self, endpoint_id: UUID, *, organisation_id: UUID | None = None) -> EndpointRead:
        return endpoint_read(await self._endpoint(endpoint_id, organisation_id))

    async def change(
        self, endpoint_id: UUID, data: EndpointUpdate, settings: WebhookSettings, *, organisation_id: UUID | None = None
    ) -> EndpointRead:
        endpoint = await self._endpoint(endpoint_id, organisation_id)
        sent = data.model_dump(exclude_unset=True)
        for required in ("url", "event_types"):
            if required in sent and sent[required] is None:
                raise invalid(required, "cannot be empty")
        if "url" in sent:
            sent["url"] = await self._check_url(sent["url"], settings)
        if "event_types" in sent:
            sent["event_types"] = sorted({str(e) for e in sent["event_types"]})
        self.apply(endpoint, sent)
        return endpoint_read(await self.update(endpoint))

    async def remove(self, endpoint_id: UUID, *, organisation_id: UUID | None = None) -> None:
        """Deletes the endpoint and its deliveries (nothing more is sent to it)."""
        await self.delete((await self._endpoint(endpoint_id, organisation_id)).id)

    async def rotate_secret(
        self, endpoint_id: UUID, settings: WebhookSettings, *, organisation_id: UUID | None = None
    ) -> EndpointWithSecret:
        """A new secret; the old one signs beside it for `rotation_overlap_hours`, so the partner
        can switch its verification without losing a message."""
        endpoint = await self._endpoint(endpoint_id, organisation_id)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = datetime.now(UTC) + timedelta(hours=settings.rotation_overlap_hours)
        endpoint.secret = signing.new_secret()
        return endpoint_read(await self.update(endpoint), secret=True)  # type: ignore[return-value]

    async def enable(self, endpoint_id: UUID) -> EndpointRead:
        """Staff re-enable an endpoint (after the partner fixed it): failures are forgotten; what
        failed meanwhile is replayed on request (`replay_failed`)."""
        endpoint = await self._endpoint(endpoint_id, None)
        endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = True, None, None
        endpoint.failing_since = None
        return endpoint_read(await self.update(endpoint))

    async def disable(self, endpoint_id: UUID, reason: str) -> EndpointRead:
        endpoint = await self._endpoint(endpoint_id, None)
        if endpoint.enabled:
            endpoint.enabled, endpoint.disabled_at = False, datetime.now(UTC)
            endpoint.disabled_reason = f"Disabled by staff: {reason}"
        return endpoint_read(await self.update(endpoint))

    async def list_deliveries(
        self,
        listing: ListQuery,
        *,
        endpoint_id: UUID | None = None,
        organisation_id: UUID | None = None,
        status: WebhookDeliveryStatus | None = None,
    ) -> tuple[list[DeliveryRead], int]:
        """The recent deliveries with the partner's answers, newest first by default."""
        query = select(WebhookDelivery)
        if endpoint_id is not None:
            query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
        if organisation_id is not None:
            query = query.where(WebhookDelivery.organisation_id == organisation_id)
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        if listing.q:
            query = query.where(WebhookDelivery.message_id == listing.q)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        for statement_filter in listing.filters(DELIVERY_SORTABLE, "-created_at"):
            query = statement_filter.append_to_statement(query, WebhookDelivery)
        rows = await self.session.scalars(query)
        return [delivery_read(d) for d in rows], total

    async def replay(self, delivery_id: UUID) -> DeliveryRead:
        """Sends a delivery again as a new row (the first one's answers stay), with the same
        webhook-id and body: a partner that had it can tell."""
        original = await self.session.get(WebhookDelivery, delivery_id)
        if original is None:
            raise NotFoundError("No such webhook delivery")
        await self._endpoint(original.endpoint_id, None)
        copy = WebhookDelivery(
            endpoint_id=original.endpoint_id,
            organisation_id=original.organisation_id,
            event_type=original.event_type,
            message_id=original.message_id,
            body=original.body,
            replay_of_id=original.id,
            next_attempt_at=datetime.now(UTC),
        )
        self.session.add(copy)
        await self.session.flush()
        return delivery_read(copy)

    async def replay_failed(self, endpoint_id: UUID, since: datetime) -> int:
        """Replays every failed or skipped delivery of the endpoint created since `since` that was
        not replayed already, in one statement."""
        await self._endpoint(endpoint_id, None)
        d = WebhookDelivery.__table__
        assert isinstance(d, Table)
        later = d.alias("later")
        replayed = select(later.c.id).where(later.c.replay_of_id == d.c.id)
        now = datetime.now(UTC)
        chosen = select(
            d.c.endpoint_id,
            d.c.organisation_id,
            d.c.event_type,
            d.c.message_id,
            d.c.body,
            d.c.id,
            literal(WebhookDeliveryStatus.QUEUED.value).cast(d.c.status.type),
            literal(0),
            literal(now),
            func.gen_random_uuid(),
            literal(now),
            literal(now),
        ).where(
            d.c.endpoint_id == endpoint_id,
            d.c.created_at >= since,
            d.c.status.in_([s.value for s in REPLAYABLE]),
            ~replayed.exists(),
        )
        result = await self.session.execute(
            insert(d)
            .from_select(
                [
                    "endpoint_id",
                    "organisation_id",
                    "event_type",
                    "message_id",
                    "body",
                    "replay_of_id",
                    "status",
                    "attempts",
                    "next_attempt_at",
                    "id",
                    "created_at",
                    "updated_at",
                ],
                chosen,
            )
            .returning(d.c.id)
        )
        return len(result.all())
