"""Partner webhooks as a consumer of the outbox engine (crm/domain/outbox): the adapter that signs
each message (Standard Webhooks) and POSTs it with httpx to the address checked (addresses.py).

What an answer means: 2xx delivered; 410 Gone disables the endpoint at once (the partner said it
wants no more); 408, 429, 5xx and network faults are temporary: the engine retries on the schedule
below, from seconds to hours, for about five days; any other answer (other 4xx, a redirect, an
address refused) fails that delivery. An endpoint whose deliveries all failed for
`CRM_WEBHOOKS_DISABLE_AFTER_HOURS` is disabled, with the reason shown to staff, who may re-enable
it and replay."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import structlog
from advanced_alchemy.config import SQLAlchemyAsyncConfig
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm.config import Settings
from crm.domain.outbox.engine import Answer, Run, new_owner
from crm.domain.outbox.queries import OutboxTable
from crm.domain.webhooks import addresses, signing

log = structlog.get_logger("crm.webhooks")
BATCH = 20
USER_AGENT = "crm-webhooks/1"
# Waits after each failed try (Svix's schedule, stretched with 10 h steps to about five days, so
# that one message alone lasts as long as the endpoint is given before it is disabled).
RETRY_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000) + (36000,) * 12
# What the partner said, as kept on the row: status, then the start of its body.
ANSWER_CHARS = 300

WEBHOOK_DELIVERIES = OutboxTable(
    name="webhook_delivery",
    status_type="webhook_delivery_status",
    columns=(
        "t.endpoint_id",
        "t.message_id",
        "t.body",
        "e.url",
        "e.secret",
        "CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END AS previous_secret",
    ),
    joins="JOIN webhook_endpoint e ON e.id = t.endpoint_id",
    # No mailbox, no suppression list.
    address=None,
    # Still wanted: the endpoint is enabled and still subscribed to this event.
    wanted="EXISTS (SELECT 1 FROM webhook_endpoint w WHERE w.id = t.endpoint_id AND w.enabled "
    "AND t.event_type = ANY(w.event_types))",
)

# The worker's own bookkeeping of an endpoint's health (staff changes go through the service).
ANSWERED = text("UPDATE webhook_endpoint SET failing_since = NULL WHERE id = :id AND failing_since IS NOT NULL")
FAILED = text("""
UPDATE webhook_endpoint SET failing_since = coalesce(failing_since, now()),
    enabled = CASE WHEN failing_since < now() - make_interval(secs => :grace) THEN false ELSE enabled END,
    disabled_at = CASE WHEN enabled AND failing_since < now() - make_interval(secs => :grace) THEN now() ELSE disabled_at END,
    disabled_reason = CASE WHEN enabled AND failing_since < now() - make_interval(secs => :grace)
        THEN :reason ELSE disabled_reason END,
    updated_at = now()
WHERE id = :id
""")
GONE = text("""
UPDATE webhook_endpoint SET enabled = false, disabled_at = now(), disabled_reason = :reason, updated_at = now()
WHERE id = :id AND enabled
""")


@dataclass(frozen=True)
class Outgoing:
    endpoint_id: UUID
    url: str
    headers: dict[str, str]
    body: str


class WebhookRefused(Exception):
    """The partner's answer (or the network) said no: `permanent` or worth another try."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def temporary(status: int) -> bool:
    return status in (408, 429) or status >= 500


class WebhookDeliveries:
    """The adapter of partner webhooks (several lanes: one slow partner does not hold up others)."""

    table = WEBHOOK_DELIVERIES
    unwanted = Answer("skipped", "not sent: the endpoint is disabled or no longer subscribed to this event")
    retry_schedule = RETRY_SCHEDULE

    def __init__(self, settings: Settings, db_config: SQLAlchemyAsyncConfig, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.db_config = db_config
        self.http = http

    def wanted_params(self) -> dict[str, Any]:
        return {}

    async def prepare(self, conn: AsyncConnection, rows: Sequence[Any]) -> None:
        """Nothing: the claim returned the endpoint with each row."""

    async def compose(self, conn: AsyncConnection, row: Any) -> Outgoing:
        secrets_in_use = [row.secret] + ([row.previous_secret] if row.previous_secret else [])
        timestamp = int(datetime.now(UTC).timestamp())
        headers = signing.headers(secrets_in_use, row.message_id, timestamp, row.body)
        headers |= {"content-type": "application/json", "user-agent": USER_AGENT}
        return Outgoing(row.endpoint_id, row.url, headers, row.body)

    async def _endpoint(self, statement: Any, **params: Any) -> None:
        async with self.db_config.get_engine().begin() as conn:
            await conn.execute(statement, params)

    async def _failed(self, endpoint_id: UUID, said: str) -> None:
        hours = self.settings.webhooks.disable_after_hours
        grace = hours * 3600
        reason = f"Every delivery failed for more than {hours:g} hours; last answer: {said}"
        await self._endpoint(FAILED, id=endpoint_id, grace=grace, reason=reason[:1000])

    async def _post(self, message: Outgoing) -> tuple[httpx.Response, str]:
        """The partner's answer and the start of its body. Only that start is read, raw (a huge or
        compressed body costs nothing), and the whole exchange has one deadline: a server that
        drips its answer does not hold a lane."""
        async with (
            asyncio.timeout(self.settings.webhooks.timeout_seconds),
            self.http.stream("POST", message.url, content=message.body.encode(), headers=message.headers) as response,
        ):
            head = b""
            async for chunk in response.aiter_raw():
                head += chunk
                if len(head) >= ANSWER_CHARS * 4:
                    break
        return response, head.decode("utf-8", "replace")[:ANSWER_CHARS]

    async def transmit(self, message: Outgoing) -> str:
        try:
            response, start = await self._post(message)
        except addresses.AddressRefused as exc:
            await self._failed(message.endpoint_id, f"refused: {exc}")
            raise WebhookRefused(f"not sent: {exc}", permanent=True) from exc
        except (httpx.HTTPError, TimeoutError) as exc:
            said = f"no answer: {type(exc).__name__} {exc}".strip()
            await self._failed(message.endpoint_id, said)
            raise WebhookRefused(said, permanent=False) from exc
        said = f"{response.status_code} {response.reason_phrase}: {start}".strip()
        if response.is_success:
            await self._endpoint(ANSWERED, id=message.endpoint_id)
            return said
        if response.status_code == 410:
            await self._endpoint(
                GONE,
                id=message.endpoint_id,
                reason=f"The partner answered 410 Gone on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
                "it wants no more messages at this URL.",
            )
            raise WebhookRefused(said, permanent=True)
        await self._failed(message.endpoint_id, said)
        if response.is_redirect:
            raise WebhookRefused(f"{said} (redirects are not followed)", permanent=True)
        raise WebhookRefused(said, permanent=not temporary(response.status_code))

    async def refused(self, row: Any, refusal: WebhookRefused) -> Answer:
        return Answer("failed", str(refusal)[:1000])

    async def halt(self, reason: str) -> None:
        # A run of faults stops this run only: the rows keep their own schedule, and an endpoint is
        # disabled by its own days of failures (or a 410), not by a neighbour's.
        log.warning("webhooks_halted", reason=reason)


async def deliver_due(settings: Settings, db_config: SQLAlchemyAsyncConfig, redis: Any, worker: str) -> int:
    """One run over the webhook deliveries that are due; returns how many were delivered."""
    hooks = settings.webhooks
    async with addresses.client(allow_loopback=hooks.allow_loopback, timeout=hooks.timeout_seconds) as http:
        adapter = WebhookDeliveries(settings, db_config, http)
        run = Run(
            adapter,
            db_config.get_engine(),
            settings.sending,
            redis=redis,
            owner=new_owner(worker),
            lanes=hooks.lanes,
            batch_size=BATCH,
        )
        return await run.run()
