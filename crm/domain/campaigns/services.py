"""Campaigns: compose, preview, schedule or send, pause, resume, cancel, follow.

Starting a send is one transaction: the campaign is locked, its template compiled and stored,
and one `delivery` row written per recipient (one set-based INSERT ... SELECT over the list, the
segment and the suppression list: a start cut off leaves nothing, and the next one writes each
recipient once). From then on PostgreSQL decides what is left to send."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import CursorResult, Select, and_, exists, func, insert, literal, select, text, update

from crm.config import Settings
from crm.db.audit_listener import record
from crm.db.models.campaign import Campaign, CampaignKind, CampaignStatus, Delivery, DeliveryStatus
from crm.db.models.event import Event, EventStatus
from crm.db.models.lists import MailingList, Subscription, SubscriptionStatus
from crm.db.models.organisation import Organisation
from crm.db.models.person import Person, Position
from crm.db.models.publication import Publication
from crm.db.models.segment import Segment
from crm.db.models.suppression import Suppression
from crm.domain.campaigns.content import Content, check_placeholders, compile_campaign
from crm.domain.campaigns.rendering import archive_view
from crm.domain.events.display import summary as event_summary
from crm.domain.outbox.queries import FINISH_CAMPAIGN
from crm.domain.outbox.suppression import email_hash_sql
from crm.domain.segments.services import segment_condition
from crm.lib import frenchdates
from crm.lib.listing import ListQuery
from crm.lib.mail import CompiledTemplate, TemplateError
from crm.lib.problems import ProblemError, field_error
from crm.lib.services import Service
from crm.lib.timezones import PARIS

# Which statuses each action may start from.
EDITABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.SCHEDULED})
STARTABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.SCHEDULED})
CANCELLABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED})
PENDING = (DeliveryStatus.QUEUED, DeliveryStatus.LEASED)


async def render_or_422(render: Callable[..., str], *args: Any) -> str:
    """A render off the event loop (bounded in size and time); a template that fails is the
    content's fault: 422 naming it, never a 500."""
    try:
        return await asyncio.to_thread(render, *args)
    except TemplateError as exc:
        raise ProblemError(
            422, f"The message cannot be composed: {exc}", errors=[field_error("content", str(exc))]
        ) from exc


def _conflict(campaign: Campaign, action: str) -> ProblemError:
    return ProblemError(
        409,
        f"Cannot {action} a campaign that is {campaign.status.value}",
        errors=[field_error("status", f"is {campaign.status.value}")],
    )


class CampaignService(Service[Campaign]):
    async def _check_references(
        self, list_id: UUID | None, segment_id: UUID | None, publication_id: UUID | None
    ) -> None:
        for field, model, value in (
            ("list_id", MailingList, list_id),
            ("segment_id", Segment, segment_id),
            ("publication_id", Publication, publication_id),
        ):
            if value is not None and await self.session.get(model, value) is None:
                raise ProblemError(422, f"{field}: no such record", errors=[field_error(field, "no such record")])

    async def _check_event(self, kind: CampaignKind, event_id: UUID | None) -> None:
        """An invitation invites to one event, still scheduled; other kinds invite to none."""
        if kind == CampaignKind.INVITATION and event_id is None:
            raise ProblemError(
                422,
                "event_id: an invitation needs its event",
                errors=[field_error("event_id", "is required for an invitation")],
            )
        if event_id is None:
            return
        event = await self.session.get(Event, event_id)
        if event is None:
            raise ProblemError(422, "event_id: no such record", errors=[field_error("event_id", "no such record")])
        if event.status != EventStatus.SCHEDULED:
            raise ProblemError(409, "The event is cancelled", errors=[field_error("event_id", "is cancelled")])

    async def create_campaign(self, data: dict[str, Any]) -> Campaign:
        content = Content.model_validate(data.get("content") or {})
        check_placeholders(content, subject=data.get("subject"), preheader=data.get("preheader"))
        await self._check_references(data["list_id"], data.get("segment_id"), data.get("publication_id"))
        await self._check_event(data.get("kind") or CampaignKind.NEWSLETTER, data.get("event_id"))
        if data.get("kind") == CampaignKind.INVITATION and data.get("template") in (None, "newsletter"):
            data["template"] = "invitation"
        return await self.create(
            Campaign(**{**data, "content": content.model_dump(mode="json"), "status": CampaignStatus.DRAFT})
        )

    async def update_campaign(self, campaign_id: UUID, changes: dict[str, Any]) -> Campaign:
        campaign = await self.get(campaign_id)
        if campaign.status not in EDITABLE:
            raise _conflict(campaign, "change")
        content = None
        if "content" in changes:
            content = Content.model_validate(changes["content"] or {})
            changes["content"] = content.model_dump(mode="json")
        check_placeholders(content, subject=changes.get("subject"), preheader=changes.get("preheader"))
        await self._check_references(changes.get("list_id"), changes.get("segment_id"), changes.get("publication_id"))
        if "kind" in changes or "event_id" in changes:
            await self._check_event(
                changes.get("kind") or campaign.kind,
                changes.get("event_id", campaign.event_id),
            )
        self.apply(campaign, changes)
        return await self.update(campaign)

    async def delete_campaign(self, campaign_id: UUID) -> None:
        campaign = await self.get(campaign_id)
        if campaign.status != CampaignStatus.DRAFT:
            raise ProblemError(
                409,
                "Only a draft can be deleted; cancel the campaign instead",
                errors=[field_error("status", f"is {campaign.status.value}")],
            )
        await self.delete(campaign_id)

    async def compile(self, campaign: Campaign, issued_on: date | None = None) -> CompiledTemplate:
        publication = None
        if campaign.publication_id:
            pub = await self.session.get(Publication, campaign.publication_id)
            if pub is not None:
                publication = {
                    "title": pub.title,
                    "kind": pub.kind.value,
                    "summary": pub.summary,
                    "url": pub.url,
                    "cover_image_url": pub.cover_image_url,
                    "published_on": frenchdates.day(pub.published_on, weekday=False),
                }
        event = await self.session.get(Event, campaign.event_id) if campaign.event_id else None
        # MJML and the CSS inliner are CPU work on up to megabytes of staff text: off the event loop.
        return await asyncio.to_thread(
            compile_campaign,
            campaign.template,
            campaign.content,
            subject=campaign.subject,
            publication=publication,
            event=event_summary(event) if event is not None else None,
            issued_on=issued_on,
        )

    def audience(self, campaign: Campaign, segment: Segment | None) -> Select[Any]:
        """Everyone subscribed to the list (narrowed by the segment), with an address, once."""
        query: Any = (
            select(Person.id, Person.email)
            .join(Subscription, and_(Subscription.person_id == Person.id, Subscription.list_id == campaign.list_id))
            .where(Subscription.status == SubscriptionStatus.SUBSCRIBED, Person.email.is_not(None))
        )
        if segment is not None:
            query = query.where(segment_condition(segment.definition))
        return query

    async def first_recipient(self, campaign: Campaign) -> UUID | None:
        segment = await self.session.get(Segment, campaign.segment_id) if campaign.segment_id else None
        base = self.audience(campaign, segment).subquery()
        return await self.session.scalar(select(base.c.id).limit(1))

    async def count_audience(self, campaign: Campaign) -> tuple[int, int]:
        """(recipients, of whom suppressed), as a send would find them now."""
        segment = await self.session.get(Segment, campaign.segment_id) if campaign.segment_id else None
        base = self.audience(campaign, segment).subquery()
        suppressed = exists().where(Suppression.email_hash == email_hash_sql(base.c.email))
        row = (
            await self.session.execute(select(func.count(), func.count().filter(suppressed)).select_from(base))
        ).one()
        return int(row[0]), int(row[1])

    async def start(self, campaign_id: UUID, settings: Settings, *, at: datetime | None = None) -> Campaign:
        """Freezes the audience into deliveries and marks the campaign running, in one transaction.
        The web copy for the archive is rendered here, once: it is also the proof that the message
        renders at all, before anyone is queued. `at`: when the send started, for the demo's past
        campaigns; now otherwise."""
        campaign = await self.session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update())
        if campaign is None:
            raise ProblemError(404, "No such campaign")
        if campaign.status not in STARTABLE:
            raise _conflict(campaign, "send")
        compiled = await self.compile(campaign, at.astimezone(PARIS).date() if at else None)
        archive_html = await render_or_422(archive_view, settings, campaign, compiled)
        segment = await self.session.get(Segment, campaign.segment_id) if campaign.segment_id else None
        now = at or datetime.now(UTC)
        total, queued = await self._write_deliveries(campaign, segment, now)
        if campaign.event_id is not None:
            await self._invite(campaign, now)
        campaign.status = CampaignStatus.RUNNING
        campaign.started_at = now
        campaign.audience_count = total
        campaign.suppressed_count = total - queued
        campaign.compiled_html = compiled.html_source
        campaign.compiled_text = compiled.text_source
        campaign.archive_html = archive_html
        campaign.paused_reason = None
        await self.session.flush()
        record(self.session, "send", "campaign", campaign.id, recipients=queued, suppressed=total - queued)
        return campaign

    async def _write_deliveries(self, campaign: Campaign, segment: Segment | None, now: datetime) -> tuple[int, int]:
        """One `queued` delivery per recipient not on the suppression list, in one statement that
        also counts the audience (suppressed included), so the list is read once. Rows go in
        `person_id` order: the unique index on (person, campaign) is then written in order instead
        of at random, which at a million recipients no longer fits in PostgreSQL's cache. The table
        has no foreign keys (migration 0014: checked row by row they were two thirds of the time).
        Returns (recipients, deliveries written)."""
        base = self.audience(campaign, segment).subquery()
        audience = (
            select(
                base.c.id,
                base.c.email,
                exists().where(Suppression.email_hash == email_hash_sql(base.c.email)).label("suppressed"),
            )
            .cte("audience")
            .prefix_with("MATERIALIZED")
        )
        columns = [
            "id",
            "campaign_id",
            "person_id",
            "email",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "updated_at",
        ]
        recipients = (
            select(
                func.gen_random_uuid(),
                literal(campaign.id),
                audience.c.id,
                audience.c.email,
                literal(DeliveryStatus.QUEUED.value).cast(Delivery.__table__.c.status.type),
                literal(0),
                literal(now),
                literal(now),
                literal(now),
            )
            .where(~audience.c.suppressed)
            .order_by(audience.c.id)
        )
        written = insert(Delivery).from_select(columns, recipients).returning(literal(1)).cte("written")
        counts = select(
            select(func.count()).select_from(audience).scalar_subquery(),
            select(func.count()).select_from(written).scalar_subquery(),
        )
        # One statement over the whole audience: sorted in memory rather than on disk (a million
        # rows sort in about 100 MB), and not worth compiling with JIT (a second of it, each time).
        await self.session.execute(text("SET LOCAL work_mem = '128MB'"))
        await self.session.execute(text("SET LOCAL jit = off"))
        total, queued = (await self.session.execute(counts)).one()
        return int(total), int(queued)

    async def _invite(self, campaign: Campaign, now: datetime) -> None:
        """An invitation per recipient, in the transaction that writes the deliveries; someone
        invited before (by an earlier campaign) keeps their invitation and answer."""
        event = await self.session.scalar(select(Event).where(Event.id == campaign.event_id).with_for_update())
        if event is None or event.status != EventStatus.SCHEDULED:
            raise ProblemError(409, "The event is cancelled", errors=[field_error("event_id", "is cancelled")])
        await self.session.execute(
            text(
                "INSERT INTO invitation (id, event_id, person_id, campaign_id, status, with_guest, created_at, "
                "updated_at) SELECT gen_random_uuid(), :event_id, d.person_id, :campaign_id, 'invited', false, "
                ":now, :now FROM delivery d WHERE d.campaign_id = :campaign_id "
                "ON CONFLICT (event_id, person_id) DO NOTHING"
            ),
            {"event_id": event.id, "campaign_id": campaign.id, "now": now},
        )

    async def schedule(self, campaign_id: UUID, at: datetime) -> Campaign:
        campaign = await self.get(campaign_id)
        if campaign.status not in EDITABLE:
            raise _conflict(campaign, "schedule")
        if at <= datetime.now(UTC):
            raise ProblemError(
                422,
                "scheduled_at: must be in the future",
                errors=[field_error("scheduled_at", "must be in the future")],
            )
        campaign.status = CampaignStatus.SCHEDULED
        campaign.scheduled_at = at
        return await self.update(campaign)

    async def pause(self, campaign_id: UUID, reason: str) -> Campaign:
        campaign = await self.get(campaign_id)
        if campaign.status != CampaignStatus.RUNNING:
            raise _conflict(campaign, "pause")
        campaign.status = CampaignStatus.PAUSED
        campaign.paused_reason = reason
        return await self.update(campaign)

    async def halt(self, campaign_id: UUID, reason: str) -> bool:
        """The engine stops a running campaign it cannot go on with (a run of SMTP faults, a
        message that cannot be composed): paused, with the reason staff see. False when it was no
        longer running (paused or cancelled by staff meanwhile)."""
        campaign = await self.session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update())
        if campaign is None or campaign.status != CampaignStatus.RUNNING:
            return False
        campaign.status = CampaignStatus.PAUSED
        campaign.paused_reason = reason[:1000]
        await self.session.flush()
        return True

    async def finish_if_done(self, campaign_id: UUID) -> bool:
        """A running campaign is finished once no delivery is queued or leased."""
        done = await self.session.execute(FINISH_CAMPAIGN, {"campaign_id": campaign_id})
        return bool(cast("CursorResult[Any]", done).rowcount)

    async def cannot_start(self, campaign_id: UUID, reason: str) -> None:
        """A scheduled campaign whose send cannot start goes back to draft with the reason,
        instead of being tried again at every sweep without anyone knowing."""
        campaign = await self.session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update())
        if campaign is not None and campaign.status == CampaignStatus.SCHEDULED:
            campaign.status = CampaignStatus.DRAFT
            campaign.paused_reason = reason[:2000]
            await self.session.flush()

    async def resume(self, campaign_id: UUID) -> Campaign:
        campaign = await self.get(campaign_id)
        if campaign.status != CampaignStatus.PAUSED:
            raise _conflict(campaign, "resume")
        campaign.status = CampaignStatus.RUNNING
        campaign.paused_reason = None
        return await self.update(campaign)

    async def cancel(self, campaign_id: UUID) -> Campaign:
        campaign = await self.get(campaign_id)
        if campaign.status not in CANCELLABLE:
            raise _conflict(campaign, "cancel")
        campaign.status = CampaignStatus.CANCELLED
        campaign.finished_at = datetime.now(UTC)
        # Leased rows are left to their worker, which records what the SMTP server said.
        await self.session.execute(
            update(Delivery)
            .where(Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.QUEUED)
            .values(status=DeliveryStatus.CANCELLED, lease_expires_at=None)
        )
        return await self.update(campaign)

    async def progress(self, campaign_id: UUID) -> dict[str, int]:
        rows = await self.session.execute(
            select(Delivery.status, func.count()).where(Delivery.campaign_id == campaign_id).group_by(Delivery.status)
        )
        counts = {status.value: 0 for status in DeliveryStatus}
        for status, count in rows:
            counts[status.value] = count
        # "Unsubscribed": the deliveries held back because the person had left, and the people who
        # left through this campaign's links (one-click or preference page) — each person once.
        left = (
            select(Delivery.person_id)
            .where(Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.UNSUBSCRIBED)
            .union(
                select(Subscription.person_id).where(
                    Subscription.unsubscribed_via_campaign_id == campaign_id,
                    Subscription.status == SubscriptionStatus.UNSUBSCRIBED,
                )
            )
            .subquery()
        )
        counts[DeliveryStatus.UNSUBSCRIBED.value] = (
            await self.session.scalar(select(func.count()).select_from(left)) or 0
        )
        return counts

    async def search(
        self, query: ListQuery, sortable: frozenset[str], *, status: CampaignStatus | None, kind: str | None
    ) -> tuple[Sequence[Campaign], int]:
        conditions: list[Any] = []
        if status:
            conditions.append(Campaign.status == status)
        if kind:
            conditions.append(Campaign.kind == kind)
        if query.q:
            conditions.append(func.lower(Campaign.name).contains(query.q.lower()))
        return await self.get_many_and_count(*query.filters(sortable, "-created_at"), *conditions)


class DeliveryService(Service[Delivery]):
    async def search(
        self,
        query: ListQuery,
        sortable: frozenset[str],
        *,
        campaign_id: UUID | None,
        status: DeliveryStatus | None,
        person_id: UUID | None,
    ) -> tuple[Sequence[Delivery], int]:
        conditions: list[Any] = []
        if campaign_id:
            conditions.append(Delivery.campaign_id == campaign_id)
        if status:
            conditions.append(Delivery.status == status)
        if person_id:
            conditions.append(Delivery.person_id == person_id)
        if query.q:
            conditions.append(Delivery.email.contains(query.q.lower()))
        return await self.get_many_and_count(*query.filters(sortable, "email"), *conditions)

    async def received_by_organisation(
        self, organisation_id: UUID, query: ListQuery
    ) -> tuple[list[dict[str, Any]], int]:
        """The deliveries to the people who held a position at the organisation on the day each went
        out (or was queued), newest first: what the member received, whoever held the seat then."""
        session = self.session
        if await session.get(Organisation, organisation_id) is None:
            raise ProblemError(404, "No such organisation")
        day: Any = func.date(func.timezone("Europe/Paris", func.coalesce(Delivery.sent_at, Delivery.created_at)))
        held = exists().where(
            Position.person_id == Delivery.person_id,
            Position.organisation_id == organisation_id,
            Position.held_on(day),
        )
        total = await session.scalar(select(func.count()).select_from(Delivery).where(held))
        rows = (
            await session.execute(
                select(Delivery, Campaign.name, Campaign.subject, Campaign.kind, Person.first_name, Person.last_name)
                .join(Campaign, Campaign.id == Delivery.campaign_id)
                .join(Person, Person.id == Delivery.person_id)
                .where(held)
                .order_by(func.coalesce(Delivery.sent_at, Delivery.created_at).desc(), Delivery.id)
                .limit(query.limit)
                .offset(query.offset)
            )
        ).all()
        items = [
            {
                "id": delivery.id,
                "campaign_id": delivery.campaign_id,
                "campaign_name": name,
                "subject": subject,
                "kind": kind,
                "person_id": delivery.person_id,
                "person_name": f"{first} {last}".strip(),
                "email": delivery.email,
                "status": delivery.status,
                "sent_at": delivery.sent_at,
            }
            for delivery, name, subject, kind, first, last in rows
        ]
        return items, total or 0
