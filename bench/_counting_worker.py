"""`crm worker` with a counter on every database connection, for bench/sending.py: each statement
sent is one round trip (asyncpg prepares a statement once per connection, then reuses it; those
prepares are counted apart by asyncpg, not here), and so is each BEGIN and COMMIT of a
non-autocommit transaction; `message_path` counts the claims and per-message steps apart from
what runs by the clock (sweeps, heartbeats) or once per job. At exit the counts go to the file named by argv[1] as JSON."""

from __future__ import annotations

import json
import sys
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

counts = {"statements": 0, "begin_commit": 0, "message_path": 0}


def _transactional(conn: Connection) -> bool:
    return conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT"


@event.listens_for(Engine, "before_cursor_execute")
def _statement(conn: Connection, cursor: Any, statement: str, *_args: Any) -> None:
    counts["statements"] += 1
    # The engine's claim and per-message step both start by recording a lane's last answer.
    if "recorded AS (" in statement:
        counts["message_path"] += 1


@event.listens_for(Engine, "begin")
def _begin(conn: Connection) -> None:
    if _transactional(conn):
        counts["begin_commit"] += 1


@event.listens_for(Engine, "commit")
def _commit(conn: Connection) -> None:
    if _transactional(conn):
        counts["begin_commit"] += 1


@event.listens_for(Engine, "rollback")
def _rollback(conn: Connection) -> None:
    if _transactional(conn):
        counts["begin_commit"] += 1


if __name__ == "__main__":
    from arq.worker import run_worker

    from jobs.worker import WorkerSettings, redis_settings

    WorkerSettings.redis_settings = redis_settings()  # type: ignore[attr-defined]
    try:
        run_worker(WorkerSettings)  # type: ignore[arg-type]
    finally:
        with open(sys.argv[1], "w") as out:
            json.dump(counts, out)
