"""Every named query of the outbox, in one place (listmonk keeps its queries in one file; so do we).

Each consumer keeps its own table with the same lease columns (status, attempts, next_attempt_at,
lease_expires_at, leased_by, sent_at, smtp_response, updated_at): a campaign of a million
recipients is written with one INSERT ... SELECT into its own table, and the engine is generic over
the tables. `OutboxTable` describes one; `queries_for()` builds its statements once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import TextClause, text

from crm.domain.outbox.suppression import suppressed_sql


@dataclass(frozen=True)
class OutboxTable:
    name: str
    # The PostgreSQL enum type of its status column.
    status_type: str
    # What a claim returns for each row besides id, attempts and `wanted`: SQL over the leased row
    # `t` and the `joins` (what rendering needs, read with the claim: no second query per batch).
    columns: tuple[str, ...] = ()
    joins: str = ""
    # A column that groups rows (a campaign): claims then take the rows of one group.
    group: str | None = None
    # What must hold for a claim to take anything (the campaign is still running).
    claimable: str = "true"
    # The stored recipient address (SQL over `t`): asked against the suppression list just before
    # each message. None: no mailbox (a webhook).
    address: str | None = None
    # What else must still hold just before sending (SQL over `t`, with the adapter's parameters).
    wanted: str = "true"


@dataclass(frozen=True)
class Queries:
    claim: TextClause
    step: TextClause
    release: TextClause
    expired: TextClause
    renew_all: TextClause
    next_due: TextClause
    stalled: TextClause


def _record(t: str, status: str) -> str:
    """Writes the answer to a lane's previous message (`:done`), as soon as the server gave it. A
    temporary refusal goes back to the queue with a delay, or fails once out of attempts."""
    return f"""recorded AS (
    UPDATE {t} SET
        status = CASE WHEN NOT :retry THEN CAST(:status AS {status})
                      WHEN attempts >= :max_attempts THEN 'failed'::{status}
                      ELSE 'queued'::{status} END,
        next_attempt_at = CASE WHEN :retry THEN now() + make_interval(secs => :delay) ELSE next_attempt_at END,
        leased_by = CASE WHEN :retry THEN NULL ELSE leased_by END,
        sent_at = :sent_at, smtp_response = :response, lease_expires_at = NULL, updated_at = now()
    WHERE id = :done AND status = 'leased' AND leased_by = :owner
    RETURNING id
)"""


@cache
def queries_for(table: OutboxTable) -> Queries:
    t, status = table.name, table.status_type
    group = f"AND {table.group} = :group" if table.group else ""
    columns = "".join(f", {c}" for c in table.columns)
    wanted = table.wanted
    if table.address:
        wanted = f"NOT {suppressed_sql(table.address)} AND ({wanted})"
    grouped = table.group or "NULL::uuid"
    return Queries(
        # Records the claiming lane's previous answer, leases a batch of due rows (nobody else gets
        # them until the lease expires) and returns them with what rendering needs and whether
        # each is still wanted: the lane that claims sends its first row on this confirmation.
        claim=text(f"""
WITH {_record(t, status)},
due AS (
    SELECT id FROM {t}
    WHERE status = 'queued' AND next_attempt_at <= now() {group} AND ({table.claimable})
    ORDER BY next_attempt_at, id
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
),
leased AS (
    UPDATE {t} SET status = 'leased', lease_expires_at = now() + make_interval(secs => :lease),
        leased_by = :owner, attempts = {t}.attempts + 1, updated_at = now()
    FROM due WHERE {t}.id = due.id
    RETURNING {t}.*
)
SELECT t.id, t.attempts{columns}, {wanted} AS wanted
FROM leased t {table.joins}
ORDER BY t.next_attempt_at, t.id
"""),
        # One round trip per message: record the lane's previous answer and confirm the next row
        # (renew its lease if it is still ours, ask again whether it is still wanted). No row
        # back: the next one is no longer ours to send.
        step=text(f"""
WITH {_record(t, status)}
UPDATE {t} t SET lease_expires_at = now() + make_interval(secs => :lease)
WHERE t.id = :next AND t.status = 'leased' AND t.leased_by = :owner
RETURNING {wanted} AS wanted
"""),
        # Rows a run leased but did not reach (it stopped early): back to the queue, the attempt
        # not counted.
        release=text(f"""
UPDATE {t} SET status = 'queued', attempts = greatest(attempts - 1, 0), lease_expires_at = NULL,
       leased_by = NULL, updated_at = now()
WHERE id = ANY(:ids) AND status = 'leased' AND leased_by = :owner
"""),
        # The sweep: leases whose worker died go back to the queue.
        expired=text(f"""
UPDATE {t} SET status = 'queued', lease_expires_at = NULL, leased_by = NULL, updated_at = now()
WHERE status = 'leased' AND lease_expires_at < now()
RETURNING {grouped} AS grouped
"""),
        # The heartbeat of a live run (a partial index on leased rows keeps this small).
        renew_all=text(f"""
UPDATE {t} SET lease_expires_at = now() + make_interval(secs => :lease)
WHERE status = 'leased' AND leased_by = :owner
"""),
        next_due=text(f"SELECT min(next_attempt_at) FROM {t} WHERE status = 'queued' {group}"),
        # Whether rows wait that no run is working on (their job was lost with a worker or Redis).
        stalled=text(f"""
SELECT EXISTS (SELECT 1 FROM {t} WHERE status = 'queued' AND next_attempt_at <= now() - make_interval(secs => :grace))
   AND NOT EXISTS (SELECT 1 FROM {t} WHERE status = 'leased')
"""),
    )


# Campaigns (the status changes themselves are CampaignService's).
FINISH_CAMPAIGN = text("""
UPDATE campaign SET status = 'finished', finished_at = now(), updated_at = now()
WHERE id = :campaign_id AND status = 'running'
  AND NOT EXISTS (SELECT 1 FROM delivery WHERE campaign_id = :campaign_id AND status IN ('queued', 'leased'))
""")

# Running campaigns with due rows that nobody holds a lease on: their job was lost.
STALLED_CAMPAIGNS = text("""
SELECT c.id FROM campaign c
WHERE c.status = 'running'
  AND EXISTS (SELECT 1 FROM delivery d WHERE d.campaign_id = c.id AND d.status = 'queued'
              AND d.next_attempt_at <= now() - make_interval(secs => :grace))
  AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.campaign_id = c.id AND d.status = 'leased')
""")

RUNNING_CAMPAIGNS = text("SELECT id FROM campaign WHERE status = 'running'")
DUE_SCHEDULED_CAMPAIGNS = text("SELECT id FROM campaign WHERE status = 'scheduled' AND scheduled_at <= now()")
CAMPAIGN_STATUS = text("SELECT status FROM campaign WHERE id = :id")
LIST_NAME = text("SELECT name, slug FROM mailing_list WHERE id = :id")

# Event notifications: the invitee, whether their address is suppressed, and, on the waiting
# list, their place in it (waiting order, as seats are given).
INVITEE = text(f"""
SELECT i.id, i.event_id, i.person_id, i.status, p.first_name, p.last_name, p.email,
       {suppressed_sql("p.email")} AS suppressed,
       CASE WHEN i.status = 'waiting' THEN
           (SELECT count(*) FROM invitation w WHERE w.event_id = i.event_id AND w.status = 'waiting'
              AND (w.waiting_since, w.id) <= (i.waiting_since, i.id))
       END AS place_in_queue
FROM invitation i JOIN person p ON p.id = i.person_id WHERE i.id = :id
""")
DECLINES = text("SELECT count(*) FROM event_notification WHERE invitation_id = :id AND kind = 'declined'")
