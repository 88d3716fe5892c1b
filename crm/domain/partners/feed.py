"""The contact change feed partners pull from: every change recorded once, read in an order that
never skips nor repeats a change, even when transactions commit out of the order they wrote in.

Recording: `record_contact_change` (SQL function of the same name, migration 0020) is the one
place a change is written; triggers on `person`, `partner_sharing_consent`, `partner_contact` and
`convention` call it, so staff edits, imports, merges, erasures and any bulk SQL record without
anyone remembering to. Application code with a change no trigger sees calls the Python function.

Reading: each change row carries its transaction's id (`xid`, an xid8 as bigint). Transactions
whose id is below the horizon (`horizon()`: the snapshot's xmin, counting only transactions of this
database) have all finished, so the set of rows with `xid` below it is final: no later commit can
add to it. A transaction that stays open holds the horizon back: the feed waits (never skips). A sync token holds the
horizon of the previous round; the next round takes the rows with `lo <= xid < hi`, hi being the
horizon when the round begins. The rounds partition the xid line, so each change is read in exactly
one round; a transaction still running simply waits for a later round. Within a round, rows are
grouped per person (its latest `seq`) and paged by that `seq`, a stable order over a final set."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def record_contact_change(session: AsyncSession, person_ids: Iterable[UUID], *, deleted: bool = False) -> None:
    """Records that these people changed as partners see them (the one function: triggers call
    its SQL twin, which this calls)."""
    ids = list(person_ids)
    if ids:
        await session.execute(
            text("SELECT record_contact_change(p, :deleted) FROM unnest(CAST(:ids AS uuid[])) AS p"),
            {"ids": ids, "deleted": deleted},
        )


# The transactions of *this* database still running when the snapshot was taken (xids are
# cluster-wide: another database's long transaction must not hold the feed back). Read after the
# snapshot, so that every transaction of the snapshot's in-progress list that writes here is seen
# running (its xid was assigned before the snapshot); xip holds them as xid8, pg_stat_activity as
# 32-bit xids, hence the modulo.
_HORIZON = text(
    """
    SELECT coalesce(
        (SELECT min(x::text::bigint) FROM pg_snapshot_xip(CAST(CAST(:snapshot AS text) AS pg_snapshot)) AS x
         WHERE (x::text::bigint % 4294967296) IN (
             SELECT backend_xid::text::bigint FROM pg_stat_activity
             WHERE datname = current_database() AND backend_xid IS NOT NULL
         )),
        pg_snapshot_xmax(CAST(CAST(:snapshot AS text) AS pg_snapshot))::text::bigint
    )
    """
)


async def horizon(session: AsyncSession) -> int:
    """The xid below which every transaction that could write the change log has finished: the
    oldest still running in this database, else the next xid to be given."""
    snapshot = await session.scalar(text("SELECT pg_current_snapshot()::text"))
    return int(await session.scalar(_HORIZON, {"snapshot": snapshot}))


# One page of a round: each person changed in [lo, hi) once, at their latest change, after `seq`.
CHANGES_PAGE = text(
    """
    WITH changed AS (
        SELECT person_id, max(seq) AS seq FROM contact_change
        WHERE xid >= :lo AND xid < :hi
        GROUP BY person_id
    )
    SELECT ch.seq, ch.person_id FROM changed ch
    WHERE ch.seq > :after
    ORDER BY ch.seq
    LIMIT :limit
    """
)


async def changes_page(session: AsyncSession, lo: int, hi: int, after: int, limit: int) -> list[tuple[int, UUID]]:
    rows = await session.execute(CHANGES_PAGE, {"lo": lo, "hi": hi, "after": after, "limit": limit})
    return [(r.seq, r.person_id) for r in rows]


async def forget_old_changes(session: AsyncSession, days: int) -> int:
    """Drops changes older than a sync token may be (tokens that old answer 410 anyway)."""
    result = await session.execute(
        text("DELETE FROM contact_change WHERE changed_at < now() - make_interval(days => :days)"), {"days": days}
    )
    return result.rowcount or 0  # type: ignore[attr-defined]
