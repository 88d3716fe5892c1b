"""Sending campaigns: a run of the outbox engine over one campaign's deliveries, the sweep that
keeps campaigns moving, the start of scheduled campaigns, and the test send.

Any number of runs, in any number of workers, can work on one campaign: a delivery is leased by
one of them at a time. A run that dies leaves leases that expire; the sweep hands those rows back
and starts a new job when a campaign stalls, so neither a `kill -9` nor a flushed Redis loses a
recipient. The only duplicates possible are messages the SMTP server accepted in the instant
before their answer was written: at most the messages in flight."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import structlog
from advanced_alchemy.config import SQLAlchemyAsyncConfig

from crm.config import Settings
from crm.db.models.campaign import Campaign, CampaignStatus
from crm.db.models.lists import MailingList
from crm.db.models.staff import Staff
from crm.domain.campaigns.deliveries import DELIVERIES, CampaignDeliveries, cannot_compose, halt_campaign
from crm.domain.campaigns.queue import enqueue_send
from crm.domain.campaigns.rendering import recipient_rows, render_for, sent_template
from crm.domain.campaigns.services import CampaignService
from crm.domain.outbox.engine import Run, new_owner, sweep_expired
from crm.domain.outbox.queries import (
    CAMPAIGN_STATUS,
    DUE_SCHEDULED_CAMPAIGNS,
    RUNNING_CAMPAIGNS,
    STALLED_CAMPAIGNS,
    queries_for,
)
from crm.lib.actor import Actor, acting_as
from crm.lib.mail import Mailer, SmtpPool, TemplateError
from crm.lib.mime import address, build_message, header_value
from crm.lib.problems import ProblemError
from crm.lib.services import open_session

log = structlog.get_logger("crm.campaigns.sending")


async def send_campaign(
    settings: Settings, db_config: SQLAlchemyAsyncConfig, redis: Any, pool: SmtpPool, campaign_id: UUID, worker: str
) -> tuple[int, Run[Any] | None]:
    """One run over a running campaign: sends what it can lease, then finishes the campaign when
    nothing is left, or comes back when retries are due."""
    async with open_session(db_config) as session:
        campaign = await session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.RUNNING:
        return 0, None
    try:
        template = sent_template(campaign)
    except TemplateError as exc:
        # Stored by an older version, or altered: nobody can be served; staff see why.
        await halt_campaign(db_config, campaign_id, cannot_compose(exc))
        return 0, None
    adapter = CampaignDeliveries(settings, db_config, pool, campaign, template)
    engine = db_config.get_engine()
    async with engine.connect() as conn:
        await adapter.load_list(conn)
    run = Run(
        adapter,
        engine,
        settings.sending,
        redis=redis,
        owner=new_owner(worker),
        lanes=pool.size,
        group=campaign_id,
    )
    sent = await run.run()
    async with open_session(db_config) as session:
        finished = await CampaignService(session=session).finish_if_done(campaign_id)
        next_due, status = None, None
        if not finished:
            next_due = await session.scalar(queries_for(DELIVERIES).next_due, {"group": campaign_id})
            status = await session.scalar(CAMPAIGN_STATUS, {"id": campaign_id})
    if next_due is not None and next_due > datetime.now(UTC) and status == CampaignStatus.RUNNING:
        # Retries are due later: come back then (the sweep would too, a little later).
        await enqueue_send(redis, campaign_id, 1, defer_until=next_due)
    log.info("campaign_run", campaign_id=str(campaign_id), sent=sent, finished=finished)
    return sent, run


async def start_campaign_send(
    settings: Settings, db_config: SQLAlchemyAsyncConfig, redis: Any, campaign_id: UUID
) -> None:
    """Starts a scheduled campaign's send (deliveries written in one transaction), then its jobs.
    A campaign that cannot start (its message does not compose) goes back to draft with the reason."""
    with acting_as(Actor(kind="system")):
        try:
            async with open_session(db_config) as session:
                await CampaignService(session=session).start(campaign_id, settings)
        except ProblemError as exc:
            if exc.status_code != 422:
                raise
            details = "; ".join(f"{e.get('field')}: {e.get('detail')}" for e in exc.errors)
            reason = f"Envoi programmé impossible : {exc.detail}" + (f" ({details})" if details else "")
            async with open_session(db_config) as session:
                await CampaignService(session=session).cannot_start(campaign_id, reason)
            log.warning("scheduled_campaign_cannot_start", campaign_id=str(campaign_id))
            return
    await enqueue_send(redis, campaign_id, settings.sending.jobs_per_campaign)


async def sweep_campaigns(settings: Settings, db_config: SQLAlchemyAsyncConfig, redis: Any) -> str:
    """Hands back expired leases, finishes what is done, restarts stalled campaigns, starts the
    scheduled ones that are due. Safe to run on every worker at once."""
    async with open_session(db_config) as session:
        conn = await session.connection()
        returned = len(await sweep_expired(conn, DELIVERIES))
        service = CampaignService(session=session)
        for campaign_id in (await session.execute(RUNNING_CAMPAIGNS)).scalars().all():
            await service.finish_if_done(campaign_id)
        grace = {"grace": settings.sending.sweep_every_seconds}
        stalled = (await session.execute(STALLED_CAMPAIGNS, grace)).scalars().all()
        due = (await session.execute(DUE_SCHEDULED_CAMPAIGNS)).scalars().all()
    for campaign_id in stalled:
        await enqueue_send(redis, campaign_id, settings.sending.jobs_per_campaign)
    for campaign_id in due:
        try:
            await start_campaign_send(settings, db_config, redis, campaign_id)
        except Exception:
            log.exception("scheduled_campaign_failed_to_start", campaign_id=str(campaign_id))
    return f"leases returned {returned}, restarted {len(stalled)}, started {len(due)}"


async def send_test(
    settings: Settings,
    db_config: SQLAlchemyAsyncConfig,
    mailer: Mailer,
    campaign_id: UUID,
    staff_id: UUID,
    person_id: UUID,
) -> str:
    """The campaign as `person_id` would get it, marked [TEST], to the staff member who asked. Its
    links do not act for that person: a click would unsubscribe someone else, or answer for them."""
    async with open_session(db_config) as session:
        campaign = await session.get(Campaign, campaign_id)
        staff = await session.get(Staff, staff_id)
        if campaign is None or staff is None:
            return "nothing to send"
        mailing_list = await session.get(MailingList, campaign.list_id)
        people = await recipient_rows(await session.connection(), campaign.list_id, [person_id])
        try:
            template = await CampaignService(session=session).compile(campaign)
        except ProblemError as exc:  # the preview says the same, as a 422
            return f"not sent: {exc.detail}"
    person = people.get(person_id)
    if person is None:
        return "no such person"
    list_name = mailing_list.name if mailing_list else ""
    try:
        rendered = await asyncio.to_thread(render_for, settings, campaign, template, list_name, person, preview=True)
    except TemplateError as exc:
        return f"not sent: {exc}"
    headers = [
        ("From", address(campaign.from_name, campaign.from_email)),
        ("To", staff.email),
        ("Subject", header_value(f"[TEST] {rendered.subject}")),
        ("Message-ID", f"<test-{uuid4()}@{settings.organisation.mail_domain}>"),
        ("Auto-Submitted", "auto-generated"),
    ]
    return await mailer.send_bytes(
        campaign.from_email, staff.email, build_message(headers, rendered.text, rendered.html)
    )
