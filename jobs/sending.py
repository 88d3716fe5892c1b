"""The sending engine's jobs: send a campaign, and the sweeper that keeps campaigns moving.

`send_campaign(campaign_id)` leases small batches of due deliveries (FOR UPDATE SKIP LOCKED),
renders each message, sends it over a pool of SMTP connections and writes the server's answer
as soon as it comes. Any number of these jobs, in any number of workers, can work on one campaign:
a row is leased by one of them at a time. A job that dies leaves leases that expire; the sweeper
hands those rows back and starts a new job when a campaign stalls, so neither a `kill -9` nor a
flushed Redis loses a recipient. The only duplicates possible are messages the SMTP server
accepted in the instant before their answer was written: at most the messages in flight."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm.config import Settings
from crm.db.models.campaign import Campaign, CampaignStatus
from crm.domain.association.branding import job_settings
from crm.domain.campaigns.queue import enqueue_send
from crm.domain.campaigns.rendering import fill_line, recipient_context, recipient_rows, sent_template
from crm.domain.campaigns.services import CampaignService
from crm.lib.actor import Actor, acting_as
from crm.lib.mail import CompiledTemplate, Mailer, SmtpError, TemplateError
from crm.lib.mime import address, build_message, header_value
from crm.lib.problems import ProblemError
from crm.lib.services import open_session
from jobs.context import WORKER_NAME
from jobs.leases import leases_kept

log = structlog.get_logger("jobs.sending")

# Named queries (listmonk keeps its queries in one place; so do we).
CLAIM = text("""
WITH due AS (
    SELECT id FROM delivery
    WHERE campaign_id = :campaign_id AND status = 'queued' AND next_attempt_at <= now()
    ORDER BY next_attempt_at, id
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
)
UPDATE delivery d
SET status = 'leased', lease_expires_at = now() + make_interval(secs => :lease), leased_by = :worker,
    attempts = d.attempts + 1, updated_at = now()
FROM due WHERE d.id = due.id
RETURNING d.id, d.person_id, d.email, d.attempts
""")

# Just before each message: renew the lease if it is still ours (the sweeper may have handed the
# row to another worker if we were too slow), and ask again whether the person still wants the
# list. No row back: the delivery is no longer ours to send.
CONFIRM = text("""
UPDATE delivery SET lease_expires_at = now() + make_interval(secs => :lease)
WHERE id = :id AND status = 'leased' AND leased_by = :owner
RETURNING EXISTS (SELECT 1 FROM subscription s
                  WHERE s.person_id = delivery.person_id AND s.list_id = :list_id AND s.status = 'subscribed')
      AND NOT EXISTS (SELECT 1 FROM suppression x
                      WHERE x.email_hash = encode(sha256(convert_to(lower(delivery.email), 'UTF8')), 'hex')) AS wanted
""")

RECORD = text("""
UPDATE delivery SET status = CAST(:status AS delivery_status), sent_at = :sent_at, smtp_response = :response,
       lease_expires_at = NULL, updated_at = now()
WHERE id = :id AND status = 'leased' AND leased_by = :owner
""")

RETRY = text("""
UPDATE delivery SET status = CASE WHEN attempts >= :max_attempts THEN 'failed' ELSE 'queued' END::delivery_status,
       next_attempt_at = now() + make_interval(secs => :delay), smtp_response = :response,
       lease_expires_at = NULL, leased_by = NULL, updated_at = now()
WHERE id = :id AND status = 'leased' AND leased_by = :owner
""")

RELEASE = text("""
UPDATE delivery SET status = 'queued', attempts = greatest(attempts - 1, 0), lease_expires_at = NULL,
       leased_by = NULL, updated_at = now()
WHERE id = ANY(:ids) AND status = 'leased' AND leased_by = :owner
""")

EXPIRED_LEASES = text("""
UPDATE delivery SET status = 'queued', lease_expires_at = NULL, leased_by = NULL, updated_at = now()
WHERE status = 'leased' AND lease_expires_at < now()
RETURNING campaign_id
""")

FINISH = text("""
UPDATE campaign SET status = 'finished', finished_at = now(), updated_at = now()
WHERE id = :campaign_id AND status = 'running'
  AND NOT EXISTS (SELECT 1 FROM delivery WHERE campaign_id = :campaign_id AND status IN ('queued', 'leased'))
""")

# Running campaigns with due rows that nobody holds a lease on: their job was lost.
STALLED = text("""
SELECT c.id FROM campaign c
WHERE c.status = 'running'
  AND EXISTS (SELECT 1 FROM delivery d WHERE d.campaign_id = c.id AND d.status = 'queued'
              AND d.next_attempt_at <= now() - make_interval(secs => :grace))
  AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.campaign_id = c.id AND d.status = 'leased')
""")

NEXT_DUE = text("SELECT min(next_attempt_at) FROM delivery WHERE campaign_id = :campaign_id AND status = 'queued'")

DUE_SCHEDULED = text("SELECT id FROM campaign WHERE status = 'scheduled' AND scheduled_at <= now()")


class SmtpPool:
    """The worker's SMTP connections for campaigns, lent to one message at a time."""

    def __init__(self, mailers: list[Mailer]) -> None:
        self._all = mailers
        self._free: asyncio.Queue[Mailer] = asyncio.Queue()
        for mailer in mailers:
            self._free.put_nowait(mailer)

    @property
    def size(self) -> int:
        return len(self._all)

    async def send(self, sender: str, recipient: str, data: bytes) -> str:
        mailer = await self._free.get()
        try:
            return await mailer.send_bytes(sender, recipient, data)
        finally:
            self._free.put_nowait(mailer)

    async def close(self) -> None:
        for mailer in self._all:
            await mailer.close()


class RateLimiter:
    """Messages per second for all workers together: a counter per second in Redis."""

    def __init__(self, redis: Any, per_second: float) -> None:
        self.redis = redis
        self.per_second = per_second

    async def wait(self) -> None:
        if self.per_second <= 0:
            return
        while True:
            # Windows of 1 s, or longer for rates under one a second.
            window = max(1.0, 1.0 / self.per_second)
            slot = int(time.time() / window)
            key = f"crm:send-rate:{slot}"
            count = await self.redis.incr(key)
            if count == 1:
                await self.redis.expire(key, int(window) + 2)
            if count <= max(1, int(self.per_second * window)):
                return
            await asyncio.sleep((slot + 1) * window - time.time() + 0.001)


@dataclass
class Recipient:
    delivery_id: UUID
    person_id: UUID
    email: str
    attempts: int


class CampaignRun:
    """One job's work on one campaign."""

    def __init__(self, ctx: dict[str, Any], campaign: Campaign, template: CompiledTemplate, settings: Settings) -> None:
        self.ctx = ctx
        # Branded when the run starts (crm.domain.association.branding).
        self.settings = settings
        self.db_config = ctx["db_config"]
        self.pool: SmtpPool = ctx["smtp_pool"]
        self.limiter = RateLimiter(ctx["redis"], self.settings.sending.rate_per_second)
        self.campaign = campaign
        self.template = template
        self.consecutive_faults = 0
        self.sent = 0
        # Set when the message cannot be composed: nothing more is handed out.
        self.halted = False
        # Unique per run, not per process: two jobs of one worker must not mistake each other's leases.
        self.owner = f"{WORKER_NAME}:{uuid4().hex[:8]}"
        org = self.settings.organisation
        self.domain = org.mail_domain
        self.list_name = ""
        self.list_slug = ""
        self.common_headers = [
            ("From", address(campaign.from_name, campaign.from_email)),
            ("Auto-Submitted", "auto-generated"),
            ("Precedence", "bulk"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
        if campaign.reply_to:
            self.common_headers.append(("Reply-To", campaign.reply_to))

    async def load_list(self) -> None:
        async with self.db_config.get_engine().connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT name, slug FROM mailing_list WHERE id = :id"), {"id": self.campaign.list_id}
                )
            ).one()
        self.list_name, self.list_slug = row.name, row.slug
        # RFC 2919: only the phrase may be an encoded word; the id itself stays plain.
        self.common_headers.append(("List-Id", f"{header_value(self.list_name)} <{self.list_slug}.{self.domain}>"))

    async def status(self) -> CampaignStatus:
        async with self.db_config.get_engine().connect() as conn:
            value = await conn.scalar(text("SELECT status FROM campaign WHERE id = :id"), {"id": self.campaign.id})
        return CampaignStatus(value)

    async def claim(self) -> list[Recipient]:
        sending = self.settings.sending
        async with self.db_config.get_engine().begin() as conn:
            rows = await conn.execute(
                CLAIM,
                {
                    "campaign_id": self.campaign.id,
                    "batch": sending.batch_size,
                    "lease": sending.lease_seconds,
                    "worker": self.owner,
                },
            )
            return [Recipient(r.id, r.person_id, r.email, r.attempts) for r in rows]

    async def recipients(self, batch: list[Recipient]) -> dict[UUID, Any]:
        async with self.db_config.get_engine().connect() as conn:
            return await recipient_rows(conn, self.campaign.list_id, [r.person_id for r in batch])

    def build(self, recipient: Recipient, person: Any) -> bytes:
        context = recipient_context(self.settings, self.campaign, self.list_name, person)
        html, plain = self.template.render(context)
        mailbox = self.settings.organisation.unsubscribe_address
        mailto = f"mailto:{mailbox}?subject={quote('unsubscribe ' + str(recipient.delivery_id))}"
        headers = [
            *self.common_headers,
            ("Subject", header_value(fill_line(self.campaign.subject, context))),
            ("To", address(context["full_name"], recipient.email)),
            ("Message-ID", f"<{recipient.delivery_id}@{self.domain}>"),
            ("List-Unsubscribe", f"<{context['unsubscribe_url']}>, <{mailto}>"),
        ]
        return build_message(headers, plain, html)

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection whose every statement commits at once: an SMTP answer is on disk the moment
        it is written, which is what keeps the duplicate window to the messages in flight."""
        async with self.db_config.get_engine().connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def confirm(self, conn: AsyncConnection, recipient: Recipient) -> bool | None:
        """None: the lease is no longer ours. Else whether the person still wants the list."""
        params = {
            "id": recipient.delivery_id,
            "owner": self.owner,
            "list_id": self.campaign.list_id,
            "lease": self.settings.sending.lease_seconds,
        }
        return (await conn.execute(CONFIRM, params)).scalar_one_or_none()

    async def deliver(self, conn: AsyncConnection, recipient: Recipient, person: Any) -> None:
        await self.limiter.wait()
        wanted = await self.confirm(conn, recipient)
        if wanted is None:
            return
        if not wanted or person is None:
            # Left the list (or was suppressed) after the send began: nothing more reaches them.
            await conn.execute(
                RECORD,
                {
                    "id": recipient.delivery_id,
                    "owner": self.owner,
                    "status": "unsubscribed",
                    "sent_at": None,
                    "response": "not sent: no longer subscribed",
                },
            )
            return
        try:
            data = self.build(recipient, person)
        except TemplateError as exc:
            await self.cannot_compose(conn, recipient, exc)
            return
        try:
            answer = await self.pool.send(self.campaign.from_email, recipient.email, data)
        except SmtpError as exc:
            await self.failed(conn, recipient, exc)
            return
        self.consecutive_faults = 0
        self.sent += 1
        await conn.execute(
            RECORD,
            {
                "id": recipient.delivery_id,
                "owner": self.owner,
                "status": "sent",
                "sent_at": datetime.now(UTC),
                "response": answer[:1000],
            },
        )

    async def failed(self, conn: AsyncConnection, recipient: Recipient, exc: SmtpError) -> None:
        sending = self.settings.sending
        response = str(exc)[:1000]
        if exc.permanent:
            self.consecutive_faults = 0
            # 5.1.x: the mailbox does not exist. Never write to it again.
            bounced = exc.message.lstrip().startswith("5.1.")
            await conn.execute(
                RECORD,
                {
                    "id": recipient.delivery_id,
                    "owner": self.owner,
                    "status": "bounced" if bounced else "failed",
                    "sent_at": None,
                    "response": response,
                },
            )
            if bounced:
                await self.suppress(recipient.email)
            return
        self.consecutive_faults += 1
        delay = min(sending.retry_base_seconds * 2 ** (recipient.attempts - 1), 3600)
        await conn.execute(
            RETRY,
            {
                "id": recipient.delivery_id,
                "owner": self.owner,
                "delay": delay,
                "response": response,
                "max_attempts": sending.max_attempts,
            },
        )
        if self.consecutive_faults >= sending.pause_after_consecutive_faults:
            await self.pause(
                f"The SMTP server refused {self.consecutive_faults} times in a row; last answer: {response}"
            )

    async def cannot_compose(self, conn: AsyncConnection, recipient: Recipient, exc: TemplateError) -> None:
        """A template that fails for a recipient will fail for the next ones too: this delivery
        fails with the reason, the campaign pauses with it, and the rest stays queued."""
        # Paused first: were this the last delivery, the campaign would otherwise be finished
        # before it is paused, and the reason lost.
        self.halted = True
        await self.pause(f"Le message ne peut pas être composé : {exc}"[:1000])
        reason = f"not sent: the message cannot be composed: {exc}"[:1000]
        await conn.execute(
            RECORD,
            {"id": recipient.delivery_id, "owner": self.owner, "status": "failed", "sent_at": None, "response": reason},
        )

    async def suppress(self, email: str) -> None:
        from crm.db.models.mailing import Suppression, SuppressionReason
        from crm.domain.lists.services import suppression_hash

        with acting_as(Actor(kind="system")):
            async with open_session(self.db_config) as session:
                digest = suppression_hash(email)
                if not await session.scalar(text("SELECT 1 FROM suppression WHERE email_hash = :h"), {"h": digest}):
                    session.add(
                        Suppression(
                            email_hash=digest,
                            reason=SuppressionReason.HARD_BOUNCE,
                            note=f"bounced on campaign {self.campaign.id}",
                        )
                    )

    async def pause(self, reason: str) -> None:
        with acting_as(Actor(kind="system")):
            async with open_session(self.db_config) as session:
                campaign = await session.get(Campaign, self.campaign.id, with_for_update=True)
                if campaign is not None and campaign.status == CampaignStatus.RUNNING:
                    campaign.status = CampaignStatus.PAUSED
                    campaign.paused_reason = reason
        log.warning("campaign_paused", campaign_id=str(self.campaign.id))

    async def run(self) -> int:
        await self.load_list()
        engine = self.db_config.get_engine()
        async with leases_kept(engine, "delivery", self.owner, self.settings.sending.lease_seconds):
            return await self._run()

    async def _run(self) -> int:
        while await self.status() == CampaignStatus.RUNNING:
            batch = await self.claim()
            if not batch:
                break
            people = await self.recipients(batch)
            queue: asyncio.Queue[Recipient] = asyncio.Queue()
            for recipient in batch:
                queue.put_nowait(recipient)
            stop = asyncio.Event()

            async def lane(
                queue: asyncio.Queue[Recipient] = queue, stop: asyncio.Event = stop, people: dict[UUID, Any] = people
            ) -> None:
                async with self.autocommit() as conn:
                    while not queue.empty() and not stop.is_set():
                        recipient = queue.get_nowait()
                        await self.deliver(conn, recipient, people.get(recipient.person_id))
                        if (
                            self.halted
                            or self.consecutive_faults >= self.settings.sending.pause_after_consecutive_faults
                        ):
                            stop.set()

            await asyncio.gather(*(lane() for _ in range(min(self.pool.size, len(batch)))))
            leftover = []
            while not queue.empty():
                leftover.append(queue.get_nowait().delivery_id)
            if leftover:
                async with self.autocommit() as conn:
                    await conn.execute(RELEASE, {"ids": leftover, "owner": self.owner})
        return self.sent


async def send_campaign(ctx: dict[str, Any], campaign_id: str) -> str:
    cid = UUID(campaign_id)
    async with open_session(ctx["db_config"]) as session:
        campaign = await session.get(Campaign, cid)
    if campaign is None or campaign.status != CampaignStatus.RUNNING:
        return "not running"
    try:
        template = sent_template(campaign)
    except TemplateError as exc:
        # Stored by an older version, or altered: nobody can be served; staff see why.
        with acting_as(Actor(kind="system")):
            async with open_session(ctx["db_config"]) as session:
                stored = await session.get(Campaign, cid, with_for_update=True)
                if stored is not None and stored.status == CampaignStatus.RUNNING:
                    stored.status = CampaignStatus.PAUSED
                    stored.paused_reason = f"Le message ne peut pas être composé : {exc}"[:1000]
        log.warning("campaign_cannot_compose", campaign_id=campaign_id)
        return "cannot compose"
    run = CampaignRun(ctx, campaign, template, await job_settings(ctx))
    sent = await run.run()
    async with ctx["db_config"].get_engine().begin() as conn:
        finished = (await conn.execute(FINISH, {"campaign_id": cid})).rowcount
        next_due = None if finished else await conn.scalar(NEXT_DUE, {"campaign_id": cid})
    if next_due is not None and next_due > datetime.now(UTC) and await run.status() == CampaignStatus.RUNNING:
        # Retries are due later: come back then (the sweeper would too, a little later).
        await enqueue_send(ctx["redis"], cid, 1, defer_until=next_due)
    log.info("campaign_run", campaign_id=campaign_id, sent=sent, finished=bool(finished))
    return f"sent {sent}"


async def start_campaign_send(ctx: dict[str, Any], campaign_id: UUID) -> None:
    """Starts a campaign's send (deliveries written in one transaction), then its jobs. A campaign
    that cannot start (its message does not compose) goes back to draft with the reason, instead of
    being tried again at every sweep without anyone knowing."""
    with acting_as(Actor(kind="system")):
        try:
            async with open_session(ctx["db_config"]) as session:
                await CampaignService(session=session).start(campaign_id, await job_settings(ctx))
        except ProblemError as exc:
            if exc.status_code != 422:
                raise
            details = "; ".join(f"{e.get('field')}: {e.get('detail')}" for e in exc.errors)
            reason = f"Envoi programmé impossible : {exc.detail}" + (f" ({details})" if details else "")
            async with open_session(ctx["db_config"]) as session:
                campaign = await session.get(Campaign, campaign_id, with_for_update=True)
                if campaign is not None and campaign.status == CampaignStatus.SCHEDULED:
                    campaign.status = CampaignStatus.DRAFT
                    campaign.paused_reason = reason[:2000]
            log.warning("scheduled_campaign_cannot_start", campaign_id=str(campaign_id))
            return
    await enqueue_send(ctx["redis"], campaign_id, ctx["settings"].sending.jobs_per_campaign)


async def sweep(ctx: dict[str, Any]) -> str:
    """Hands back expired leases, finishes what is done, restarts stalled campaigns, starts the
    scheduled ones that are due. Safe to run on every worker at once."""
    settings: Settings = ctx["settings"]
    engine = ctx["db_config"].get_engine()
    async with engine.begin() as conn:
        returned = len((await conn.execute(EXPIRED_LEASES)).all())
        running = [r.id for r in await conn.execute(text("SELECT id FROM campaign WHERE status = 'running'"))]
        for campaign_id in running:
            await conn.execute(FINISH, {"campaign_id": campaign_id})
        stalled = [r.id for r in await conn.execute(STALLED, {"grace": settings.sending.sweep_every_seconds})]
        due = [r.id for r in await conn.execute(DUE_SCHEDULED)]
    for campaign_id in stalled:
        await enqueue_send(ctx["redis"], campaign_id, settings.sending.jobs_per_campaign)
    for campaign_id in due:
        try:
            await start_campaign_send(ctx, campaign_id)
        except Exception:
            log.exception("scheduled_campaign_failed_to_start", campaign_id=str(campaign_id))
    return f"leases returned {returned}, restarted {len(stalled)}, started {len(due)}"


def sweep_seconds(settings: Settings) -> set[int]:
    step = max(1, min(60, settings.sending.sweep_every_seconds))
    return set(range(0, 60, step))


async def send_campaign_test(ctx: dict[str, Any], campaign_id: str, staff_id: str, person_id: str) -> str:
    """The campaign as `person_id` would get it, marked [TEST], to the staff member who asked."""
    from crm.db.models.mailing import MailingList
    from crm.db.models.staff import Staff

    settings = await job_settings(ctx)
    async with open_session(ctx["db_config"]) as session:
        campaign = await session.get(Campaign, UUID(campaign_id))
        staff = await session.get(Staff, UUID(staff_id))
        if campaign is None or staff is None:
            return "nothing to send"
        mailing_list = await session.get(MailingList, campaign.list_id)
        people = await recipient_rows(await session.connection(), campaign.list_id, [UUID(person_id)])
        try:
            template = await CampaignService(session=session).compile(campaign)
        except ProblemError as exc:  # the preview says the same, as a 422
            return f"not sent: {exc.detail}"
    person = people.get(UUID(person_id))
    if person is None:
        return "no such person"
    # The test shows a recipient's fields, but its links must not act for that recipient: a click
    # in a test message would unsubscribe someone else, or answer their invitation.
    try:
        context = recipient_context(settings, campaign, mailing_list.name if mailing_list else "", person, preview=True)
        subject = fill_line(campaign.subject, context)
        html, plain = await asyncio.to_thread(template.render, context)
    except TemplateError as exc:
        return f"not sent: {exc}"
    headers = [
        ("From", address(campaign.from_name, campaign.from_email)),
        ("To", staff.email),
        ("Subject", header_value(f"[TEST] {subject}")),
        ("Message-ID", f"<test-{uuid4()}@{settings.organisation.mail_domain}>"),
        ("Auto-Submitted", "auto-generated"),
    ]
    return await ctx["mailer"].send_bytes(campaign.from_email, staff.email, build_message(headers, plain, html))
