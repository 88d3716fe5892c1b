"""What a report does: a hard bounce suppresses the address at once, soft ones count (three on
different days within 30 days suppress), a complaint takes the person off every list, a mailto
request unsubscribes like the one-click link. Staff read the bounces back per campaign and review
them. Suppressing goes through crm.domain.outbox.suppression, the one home of it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Date, cast, func, select, update

from crm.config import Settings
from crm.db.models.campaign import Campaign, Delivery, DeliveryStatus
from crm.db.models.deliverability import Bounce, BounceKind, DkimKey
from crm.db.models.suppression import SuppressionReason
from crm.domain.deliverability.reports import Report, ReportKind, read_report
from crm.domain.lists.services import SubscriptionService
from crm.domain.outbox.suppression import suppress, suppression_hash
from crm.lib.actor import Actor, acting_as
from crm.lib.dkim import generate_key_pair
from crm.lib.listing import ListQuery
from crm.lib.services import Service


@dataclass
class Outcome:
    """What was done with one message, for the log (ids only) and the tests."""

    kind: str  # bounce, complaint, unsubscribe, ignored
    delivery_id: UUID | None = None
    bounce: BounceKind | None = None
    suppressed: bool = False
    unsubscribed: int = 0


class BounceService(Service[Bounce]):
    async def receive(self, settings: Settings, raw: bytes, envelope_recipients: list[str]) -> Outcome:
        """Reads one incoming message and acts on it. Its caller commits."""
        report = read_report(
            raw,
            envelope_recipients,
            settings.security.secret_key.get_secret_value(),
            settings.organisation.unsubscribe_address,
        )
        delivery = await self.session.get(Delivery, report.delivery_id) if report.delivery_id else None
        if delivery is None or report.kind is ReportKind.OTHER:
            return Outcome("ignored", report.delivery_id)
        if report.kind is ReportKind.UNSUBSCRIBE:
            return await self._unsubscribe(delivery)
        if report.kind is ReportKind.COMPLAINT:
            return await self._complaint(delivery, report)
        if not report.counts:
            return Outcome("ignored", delivery.id)
        return await self._bounce(settings, delivery, report)

    def _record(self, delivery: Delivery, report: Report, kind: BounceKind, now: datetime) -> Bounce:
        bounce = Bounce(
            delivery_id=delivery.id,
            campaign_id=delivery.campaign_id,
            person_id=delivery.person_id,
            email_hash=suppression_hash(delivery.email),
            kind=kind,
            status=report.status,
            action=report.action,
            diagnostic=report.diagnostic,
            reporter=(report.reporter or "")[:255] or None,
            received_at=now,
            suppressed=False,
            reviewed=False,
        )
        self.session.add(bounce)
        return bounce

    async def _bounce(self, settings: Settings, delivery: Delivery, report: Report) -> Outcome:
        now = datetime.now(UTC)
        kind = BounceKind.HARD if report.hard else BounceKind.SOFT
        bounce = self._record(delivery, report, kind, now)
        rules = settings.deliverability
        with acting_as(Actor(kind="system")):
            if kind is BounceKind.HARD:
                note = f"bounced {report.status} (campaign {delivery.campaign_id})"
                bounce.suppressed = await suppress(self.session, delivery.email, SuppressionReason.HARD_BOUNCE, note)
                # The delivery shows that it never arrived; a later answer of the engine (sent) is
                # older than the bounce, so only a 'sent' row changes.
                await self.session.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery.id, Delivery.status == DeliveryStatus.SENT)
                    .values(status=DeliveryStatus.BOUNCED)
                )
            else:
                await self.session.flush()
                since = now - timedelta(days=rules.soft_bounce_window_days)
                days = await self.session.scalar(
                    select(func.count(func.distinct(cast(Bounce.received_at, Date)))).where(
                        Bounce.email_hash == bounce.email_hash,
                        Bounce.kind == BounceKind.SOFT,
                        Bounce.received_at >= since,
                    )
                )
                if (days or 0) >= rules.soft_bounce_limit:
                    note = f"{days} soft bounces on different days within {rules.soft_bounce_window_days} days"
                    bounce.suppressed = await suppress(
                        self.session, delivery.email, SuppressionReason.HARD_BOUNCE, note
                    )
        return Outcome("bounce", delivery.id, kind, bounce.suppressed)

    async def _complaint(self, delivery: Delivery, report: Report) -> Outcome:
        """The person said 'spam': off every list at once, with the reason on each subscription,
        and the address suppressed (mailbox providers count every further message against us)."""
        now = datetime.now(UTC)
        bounce = self._record(delivery, report, BounceKind.COMPLAINT, now)
        reason = f"complaint ({report.feedback_type or 'abuse'} report, campaign {delivery.campaign_id})"
        with acting_as(Actor(kind="contact", id=delivery.person_id)):
            left = await SubscriptionService(session=self.session).unsubscribe_everywhere(
                delivery.person_id, reason, delivery.campaign_id
            )
            bounce.suppressed = await suppress(self.session, delivery.email, SuppressionReason.COMPLAINT, reason)
        return Outcome("complaint", delivery.id, BounceKind.COMPLAINT, bounce.suppressed, left)

    async def _unsubscribe(self, delivery: Delivery) -> Outcome:
        """As the one-click link of that message does: off the campaign's list (the same service)."""
        list_id = await self.session.scalar(select(Campaign.list_id).where(Campaign.id == delivery.campaign_id))
        if list_id is None:
            return Outcome("ignored", delivery.id)
        with acting_as(Actor(kind="contact", id=delivery.person_id)):
            done = await SubscriptionService(session=self.session).unsubscribe_from(
                delivery.person_id, list_id, f"mailto request (campaign {delivery.campaign_id})", delivery.campaign_id
            )
        return Outcome("unsubscribe", delivery.id, unsubscribed=1 if done else 0)

    # ---- what staff read -----------------------------------------------------------------

    async def search(
        self,
        query: ListQuery,
        sortable: frozenset[str],
        *,
        campaign_id: UUID | None,
        delivery_id: UUID | None,
        kind: BounceKind | None,
        reviewed: bool | None,
    ) -> tuple[Sequence[Bounce], int]:
        conditions: list[Any] = []
        if campaign_id:
            conditions.append(Bounce.campaign_id == campaign_id)
        if delivery_id:
            conditions.append(Bounce.delivery_id == delivery_id)
        if kind:
            conditions.append(Bounce.kind == kind)
        if reviewed is not None:
            conditions.append(Bounce.reviewed.is_(reviewed))
        return await self.get_many_and_count(*query.filters(sortable, "-received_at"), *conditions)

    async def mark_reviewed(self, bounce_id: UUID, reviewed: bool) -> Bounce:
        bounce = await self.get(bounce_id)
        bounce.reviewed = reviewed
        return await self.update(bounce)

    async def rates(self, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Per campaign that went out, newest first: messages sent and the share that bounced
        (hard, soft) or drew a complaint."""
        sent = (
            select(Delivery.campaign_id, func.count().label("sent"))
            .where(Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.BOUNCED]))
            .group_by(Delivery.campaign_id)
            .subquery()
        )
        counted = (
            select(
                Bounce.campaign_id,
                func.count(func.distinct(Bounce.delivery_id)).filter(Bounce.kind == BounceKind.HARD).label("hard"),
                func.count(func.distinct(Bounce.delivery_id)).filter(Bounce.kind == BounceKind.SOFT).label("soft"),
                func.count(func.distinct(Bounce.delivery_id))
                .filter(Bounce.kind == BounceKind.COMPLAINT)
                .label("complaints"),
            )
            .group_by(Bounce.campaign_id)
            .subquery()
        )
        base = (
            select(
                Campaign.id,
                Campaign.name,
                Campaign.started_at,
                sent.c.sent,
                func.coalesce(counted.c.hard, 0).label("hard"),
                func.coalesce(counted.c.soft, 0).label("soft"),
                func.coalesce(counted.c.complaints, 0).label("complaints"),
            )
            .join(sent, sent.c.campaign_id == Campaign.id)
            .outerjoin(counted, counted.c.campaign_id == Campaign.id)
        )
        total = await self.session.scalar(select(func.count()).select_from(base.subquery()))
        rows = (
            await self.session.execute(
                base.order_by(Campaign.started_at.desc().nulls_last(), Campaign.id).limit(limit).offset(offset)
            )
        ).all()
        items = []
        for row in rows:
            share = lambda n, row=row: round(n / row.sent, 4) if row.sent else 0.0  # noqa: E731
            items.append(
                {
                    "campaign_id": row.id,
                    "campaign_name": row.name,
                    "started_at": row.started_at,
                    "sent": row.sent,
                    "hard_bounces": row.hard,
                    "soft_bounces": row.soft,
                    "complaints": row.complaints,
                    "hard_bounce_rate": share(row.hard),
                    "soft_bounce_rate": share(row.soft),
                    "complaint_rate": share(row.complaints),
                }
            )
        return items, total or 0


class DkimKeyService(Service[DkimKey]):
    async def generate(self, selector: str, domain: str) -> DkimKey:
        """A new key pair; the newest one signs from the next campaign run on."""
        private_key, public_key = await asyncio.to_thread(generate_key_pair)
        return await self.create(
            DkimKey(selector=selector, domain=domain, private_key=private_key, public_key=public_key)
        )
