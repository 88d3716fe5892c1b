"""The outbox engine: the sending protocol, written once for every consumer.

A run leases a small batch of due rows (FOR UPDATE SKIP LOCKED, a lease that expires), keeps the
leases alive while it works (a heartbeat every third of the lease), and sends over lanes (one per
SMTP connection). Before each message one statement records the answer to the lane's previous
message and confirms the next one: still ours, still wanted, not suppressed. The answer is on disk
before the lane goes on, so the only duplicates possible are the messages in flight when a worker
dies. Temporary refusals retry with backoff; a run of them halts the run (a campaign pauses, with
the reason); one permanent refusal fails that row and the run goes on. Every process shares one
rate (crm.lib.ratelimit). The sweep hands expired leases back.

A consumer is an `Adapter`: its table (`OutboxTable`), what to render for a row, how to send it,
and what a refusal means. The engine knows nothing of campaigns, events or mail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID, uuid4

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm.config import SendingSettings
from crm.domain.outbox.queries import OutboxTable, queries_for
from crm.lib import ratelimit

log = structlog.get_logger("crm.outbox")

# The key of the sending rate in Redis: every consumer and every worker share it, since they
# share the SMTP relay it protects.
RATE_KEY = "crm:send-rate"

Outgoing = TypeVar("Outgoing")


@dataclass(frozen=True)
class Answer:
    """What to record for a row: its new status and the server's words (or why nothing was sent)."""

    status: str
    response: str
    sent: bool = False


@dataclass(frozen=True)
class Retry:
    """A temporary refusal: the row goes back to the queue for later (or fails, out of attempts)."""

    delay: float
    response: str


@dataclass
class Halt(Exception):
    """Raised by an adapter when no further row of this run can be served (the message cannot be
    composed): the run stops, this row gets `answer`, the adapter's `halt` hears the reason."""

    reason: str
    answer: Answer


class Refusal(Protocol):
    """What a transport raises when the other side says no: `permanent` (5xx) or not (4xx, no answer)."""

    @property
    def permanent(self) -> bool: ...


class Adapter(Protocol[Outgoing]):
    """One consumer of the engine."""

    table: OutboxTable
    # What a row that is no longer wanted (or whose address is suppressed) is recorded as.
    unwanted: Answer

    def wanted_params(self) -> dict[str, Any]:
        """The parameters of the table's `wanted` condition."""
        ...

    async def prepare(self, conn: AsyncConnection, rows: Sequence[Any]) -> None:
        """Loads what the claim did not return for a batch, if anything (one query for the batch)."""
        ...

    async def compose(self, conn: AsyncConnection, row: Any) -> Outgoing | Answer:
        """The message for a confirmed row, or the answer to record without sending (no longer
        relevant). Raises `Halt` when nothing more can be composed."""
        ...

    async def transmit(self, message: Outgoing) -> str:
        """Sends; returns the other side's answer; raises a `Refusal` when refused."""
        ...

    async def refused(self, row: Any, refusal: Any) -> Answer:
        """What a permanent refusal means for this row (failed, bounced and suppressed...)."""
        ...

    async def halt(self, reason: str) -> None:
        """A run stopped for `reason` (a run of faults, a message that cannot be composed)."""
        ...


@dataclass
class Counters:
    sent: int = 0
    consecutive_faults: int = 0
    halted: bool = False
    # Database round trips of the run (claims, steps, releases), for the bench.
    round_trips: int = 0


def backoff_seconds(settings: SendingSettings, attempts: int) -> float:
    return float(min(settings.retry_base_seconds * 2 ** max(attempts - 1, 0), 3600))


@asynccontextmanager
async def leases_kept(engine: AsyncEngine, table: OutboxTable, owner: str, lease_seconds: float) -> AsyncIterator[None]:
    """Keeps a run's leases alive while it works, so a lease can be short: a slow SMTP answer or
    the rate limit never hands a live run's rows to another worker; a killed run's heartbeat
    stops with it, and its leases expire."""
    renew = queries_for(table).renew_all

    async def beat() -> None:
        while True:
            await asyncio.sleep(max(1.0, lease_seconds / 3))
            try:
                async with engine.connect() as raw:
                    conn = await raw.execution_options(isolation_level="AUTOCOMMIT")
                    await conn.execute(renew, {"lease": lease_seconds, "owner": owner})
            except Exception:  # a missed beat is made up by the next one, or the lease expires
                log.warning("lease_renewal_failed", table=table.name, exc_info=True)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


def new_owner(worker_name: str) -> str:
    """Unique per run, not per process: two runs of one worker must not mistake each other's leases."""
    return f"{worker_name}:{uuid4().hex[:8]}"


class Run(Generic[Outgoing]):
    """One run of the engine over one adapter: claims batches until none is due (or the adapter
    says stop), and returns how many messages went out."""

    def __init__(
        self,
        adapter: Adapter[Outgoing],
        engine: AsyncEngine,
        settings: SendingSettings,
        *,
        redis: Any,
        owner: str,
        lanes: int,
        batch_size: int | None = None,
        group: UUID | None = None,
    ) -> None:
        self.adapter = adapter
        self.engine = engine
        self.settings = settings
        self.redis = redis
        self.owner = owner
        self.lanes = max(1, lanes)
        self.batch_size = batch_size or settings.batch_size
        self.group = group
        self.queries = queries_for(adapter.table)
        self.counters = Counters()

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """Every statement commits at once: an answer is on disk the moment it is written."""
        async with self.engine.connect() as raw:
            yield await raw.execution_options(isolation_level="AUTOCOMMIT")

    async def run(self) -> int:
        lease = self.settings.lease_seconds
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.claiming = asyncio.Lock()
        self.exhausted = False
        async with leases_kept(self.engine, self.adapter.table, self.owner, lease):
            await asyncio.gather(*(self.lane() for _ in range(self.lanes)))
            leftover = []
            while not self.queue.empty():
                leftover.append(self.queue.get_nowait().id)
            if leftover:
                async with self.autocommit() as conn:
                    self.counters.round_trips += 1
                    await conn.execute(self.queries.release, {"ids": leftover, "owner": self.owner})
        return self.counters.sent

    async def lane(self) -> None:
        """One lane sends one message at a time (one SMTP connection's worth). Lanes share the
        run's queue; the lane that finds it empty claims the next batch and sends its first row on
        the claim's confirmation."""
        async with self.autocommit() as conn:
            done: tuple[Any, Answer | Retry] | None = None  # the lane's previous row and its answer
            while not self.counters.halted:
                # A turn within the shared rate is taken before the previous answer is written
                # only when it is free at once: an answer never waits for the rate.
                if not await ratelimit.try_pace(self.redis, RATE_KEY, self.settings.rate_per_second):
                    if done is not None:
                        await self.step(conn, done, None)
                        done = None
                    await ratelimit.pace(self.redis, RATE_KEY, self.settings.rate_per_second)
                row, wanted = None, None
                if self.queue.empty():
                    async with self.claiming:
                        if self.queue.empty() and not self.exhausted:
                            batch = await self.claim(conn, done)
                            done = None
                            if not batch:
                                self.exhausted = True
                            else:
                                await self.adapter.prepare(conn, batch)
                                row, wanted = batch[0], batch[0].wanted
                                for other in batch[1:]:
                                    self.queue.put_nowait(other)
                if row is None:
                    if self.queue.empty():
                        break
                    row = self.queue.get_nowait()
                    wanted = await self.step(conn, done, row)
                    done = None
                    if wanted is None:
                        continue  # no longer ours: the sweeper gave it to another run
                done = (row, await self.attempt(conn, row) if wanted else self.adapter.unwanted)
            if done is not None:
                await self.step(conn, done, None)

    def _params(self, done: tuple[Any, Answer | Retry] | None) -> dict[str, Any]:
        """The parameters of a statement that records `done` (nothing when None)."""
        params: dict[str, Any] = {
            "owner": self.owner,
            "lease": self.settings.lease_seconds,
            "max_attempts": self.settings.max_attempts,
            "done": None,
            "retry": False,
            "status": None,
            "delay": 0.0,
            "sent_at": None,
            "response": None,
            **self.adapter.wanted_params(),
        }
        if done is not None:
            previous, answer = done
            params["done"] = previous.id
            if isinstance(answer, Answer):
                params |= {
                    "status": answer.status,
                    "response": answer.response[:1000],
                    "sent_at": datetime.now(UTC) if answer.sent else None,
                }
            else:
                params |= {"retry": True, "delay": answer.delay, "response": answer.response}
        return params

    async def claim(self, conn: AsyncConnection, done: tuple[Any, Answer | Retry] | None) -> list[Any]:
        params = self._params(done) | {"batch": self.batch_size}
        if self.group is not None:
            params["group"] = self.group
        self.counters.round_trips += 1
        return list((await conn.execute(self.queries.claim, params)).all())

    async def attempt(self, conn: AsyncConnection, row: Any) -> Answer | Retry:
        """Composes and sends one confirmed row; returns what to record."""
        try:
            message = await self.adapter.compose(conn, row)
        except Halt as halt:
            # Halted first: were this the last row, a campaign would be finished before it is
            # paused, and the reason lost.
            self.counters.halted = True
            await self.adapter.halt(halt.reason)
            return halt.answer
        if isinstance(message, Answer):
            return message
        try:
            answer = await self.adapter.transmit(message)
        except Exception as exc:
            permanent = getattr(exc, "permanent", None)
            if not isinstance(permanent, bool):
                raise
            if permanent:
                self.counters.consecutive_faults = 0
                return await self.adapter.refused(row, exc)
            self.counters.consecutive_faults += 1
            response = str(exc)[:1000]
            limit = self.settings.pause_after_consecutive_faults
            if self.counters.consecutive_faults >= limit and not self.counters.halted:
                self.counters.halted = True
                await self.adapter.halt(
                    f"The SMTP server refused {self.counters.consecutive_faults} times in a row; last answer: {response}"
                )
            return Retry(backoff_seconds(self.settings, row.attempts), response)
        self.counters.consecutive_faults = 0
        self.counters.sent += 1
        return Answer("sent", answer[:1000], sent=True)

    async def step(self, conn: AsyncConnection, done: tuple[Any, Answer | Retry] | None, row: Any) -> bool | None:
        """Records `done` and confirms `row`, in one statement: None when `row` is no longer ours."""
        params = self._params(done) | {"next": row.id if row is not None else None}
        self.counters.round_trips += 1
        return (await conn.execute(self.queries.step, params)).scalar_one_or_none()


async def sweep_expired(conn: AsyncConnection, table: OutboxTable) -> list[Any]:
    """Hands expired leases back to the queue; returns the group of each row handed back."""
    return [r.grouped for r in await conn.execute(queries_for(table).expired)]


async def stalled(conn: AsyncConnection, table: OutboxTable, grace: float) -> bool:
    """Rows wait that no run works on: their job was lost (a killed worker, a flushed Redis)."""
    return bool(await conn.scalar(queries_for(table).stalled, {"grace": grace}))


async def run_in_order(
    adapter: Adapter[Outgoing], engine: AsyncEngine, settings: SendingSettings, redis: Any, worker: str, batch_size: int
) -> int:
    """One run over a consumer whose messages keep their order, one lane (an invitee's event
    messages, system mail); returns how many went out."""
    run = Run(adapter, engine, settings, redis=redis, owner=new_owner(worker), lanes=1, batch_size=batch_size)
    return await run.run()
