"""Campaign deliveries as a consumer of the outbox engine: what to render for one recipient, where
to send it (the worker's SMTP pool), what a refusal means (5.1.x: the mailbox does not exist, so
the address is suppressed), and what stops a campaign (it pauses, with the reason, in
CampaignService). The protocol itself is in crm.domain.outbox.engine."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote
from uuid import UUID

import structlog
from advanced_alchemy.config import SQLAlchemyAsyncConfig
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm.config import Settings
from crm.db.models.campaign import Campaign
from crm.db.models.deliverability import DkimKey
from crm.domain.campaigns.rendering import RECIPIENT_COLUMNS, CampaignRenderer
from crm.domain.campaigns.services import CampaignService
from crm.domain.outbox.engine import Answer, Halt
from crm.domain.outbox.queries import LIST_NAME, OutboxTable
from crm.domain.outbox.suppression import suppress_unknown_mailbox
from crm.lib.actor import Actor, acting_as
from crm.lib.dkim import Signer
from crm.lib.mail import CompiledTemplate, SmtpError, SmtpPool, TemplateError
from crm.lib.mime import address, build_message, header_value
from crm.lib.services import open_session
from crm.lib.verp import UNSUBSCRIBE_PREFIX, make_tag, return_path, tagged_address

log = structlog.get_logger("crm.campaigns.deliveries")

DELIVERIES = OutboxTable(
    name="delivery",
    status_type="delivery_status",
    columns=("t.person_id", "t.email", *RECIPIENT_COLUMNS),
    # LEFT: a person erased while their campaign was starting leaves a row with nobody behind it
    # (the delivery table has no foreign key); it is then no longer wanted, and recorded so.
    joins="LEFT JOIN person p ON p.id = t.person_id "
    "LEFT JOIN subscription s ON s.person_id = t.person_id AND s.list_id = :list_id",
    group="campaign_id",
    claimable="EXISTS (SELECT 1 FROM campaign c WHERE c.id = :group AND c.status = 'running')",
    address="t.email",
    # Still on the list when their turn comes (they may have left since the send began).
    wanted="EXISTS (SELECT 1 FROM subscription s WHERE s.person_id = t.person_id AND s.list_id = :list_id "
    "AND s.status = 'subscribed')",
)


def cannot_compose(exc: Exception) -> str:
    return f"Le message ne peut pas être composé : {exc}"[:1000]


class CampaignDeliveries:
    """The adapter for one campaign's run."""

    table = DELIVERIES
    unwanted = Answer("unsubscribed", "not sent: no longer subscribed")

    def __init__(
        self,
        settings: Settings,
        db_config: SQLAlchemyAsyncConfig,
        pool: SmtpPool,
        campaign: Campaign,
        template: CompiledTemplate,
    ) -> None:
        self.settings = settings
        self.db_config = db_config
        self.pool = pool
        self.campaign = campaign
        self.template = template
        self.domain = settings.organisation.mail_domain
        self.renderer = CampaignRenderer(settings, campaign, template, "")
        self.secret = settings.security.secret_key.get_secret_value()
        self.bounce_domain = settings.deliverability.domain(settings.organisation)
        self.common_headers = [
            ("From", address(campaign.from_name, campaign.from_email)),
            ("Auto-Submitted", "auto-generated"),
            ("Precedence", "bulk"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
        if campaign.reply_to:
            self.common_headers.append(("Reply-To", campaign.reply_to))
        self._params = {"list_id": campaign.list_id}
        self.signer: Signer | None = None  # DKIM, when turned on and a key was made

    async def load_list(self, conn: AsyncConnection) -> None:
        row = (await conn.execute(LIST_NAME, {"id": self.campaign.list_id})).one()
        self.renderer = CampaignRenderer(self.settings, self.campaign, self.template, row.name)
        # RFC 2919: only the phrase may be an encoded word; the id itself stays plain.
        self.common_headers.append(("List-Id", f"{header_value(row.name)} <{row.slug}.{self.domain}>"))
        if self.settings.deliverability.dkim_enabled:
            self.signer = await newest_signer(conn)

    def wanted_params(self) -> dict[str, Any]:
        return self._params

    async def prepare(self, conn: AsyncConnection, rows: Sequence[Any]) -> None:
        """Nothing: the claim returned each recipient's fields."""

    def build(self, row: Any) -> bytes:
        """The message for one delivery row (with its recipient's fields)."""
        person = SimpleNamespace(
            id=row.person_id,
            first_name=row.first_name,
            last_name=row.last_name,
            organisation=row.organisation,
            legal_basis=row.legal_basis,
            subscribed_at=row.subscribed_at,
        )
        rendered = self.renderer.render(person)
        # The signed tag in the address and in the subject: either one unsubscribes (crm inbound).
        tag = make_tag(self.secret, UNSUBSCRIBE_PREFIX, row.id)
        mailbox = tagged_address(self.settings.organisation.unsubscribe_address, tag)
        mailto = f"mailto:{mailbox}?subject={quote('unsubscribe ' + tag)}"
        headers = [
            *self.common_headers,
            ("Subject", header_value(rendered.subject)),
            ("To", address(rendered.full_name, row.email)),
            ("Message-ID", f"<{row.id}@{self.domain}>"),
            ("List-Unsubscribe", f"<{rendered.unsubscribe_url}>, <{mailto}>"),
        ]
        message = build_message(headers, rendered.text, rendered.html)
        return self.signer.sign(message) if self.signer else message

    async def compose(self, conn: AsyncConnection, row: Any) -> tuple[str, bytes, str] | Answer:
        try:
            # The envelope sender names the delivery (VERP), so that a later bounce finds it.
            return row.email, self.build(row), return_path(self.secret, self.bounce_domain, row.id)
        except TemplateError as exc:
            # A template that fails for one recipient fails for the next ones too: the campaign
            # pauses with the reason, and the rest stays queued.
            raise Halt(
                cannot_compose(exc), Answer("failed", f"not sent: the message cannot be composed: {exc}")
            ) from exc

    async def transmit(self, message: tuple[str, bytes, str]) -> str:
        recipient, data, envelope_from = message
        return await self.pool.send_bytes(envelope_from, recipient, data)

    async def refused(self, row: Any, refusal: SmtpError) -> Answer:
        # 5.1.x: the mailbox does not exist. Never write to it again.
        if await suppress_unknown_mailbox(self.db_config, refusal, f"bounced on campaign {self.campaign.id}"):
            return Answer("bounced", str(refusal)[:1000])
        return Answer("failed", str(refusal)[:1000])

    async def halt(self, reason: str) -> None:
        await halt_campaign(self.db_config, self.campaign.id, reason)


async def newest_signer(conn: AsyncConnection) -> Signer | None:
    key = (
        await conn.execute(
            select(DkimKey.selector, DkimKey.domain, DkimKey.private_key).order_by(DkimKey.created_at.desc()).limit(1)
        )
    ).one_or_none()
    return Signer(key.selector, key.domain, key.private_key) if key else None


async def halt_campaign(db_config: SQLAlchemyAsyncConfig, campaign_id: UUID, reason: str) -> None:
    with acting_as(Actor(kind="system")):
        async with open_session(db_config) as session:
            paused = await CampaignService(session=session).halt(campaign_id, reason)
    if paused:
        log.warning("campaign_paused", campaign_id=str(campaign_id))
