"""Import batches: upload, the dry run and the apply requested on a batch, and the worker's
claim, progress and finish. The rows themselves follow `rows.py`; exports are in `exports.py`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from advanced_alchemy.config import SQLAlchemyAsyncConfig
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.audit_listener import record
from crm.db.models.imports import ImportBatch, ImportStatus
from crm.domain.geo.names import gazetteer
from crm.domain.imports.csvfiles import (
    DELIMITER_NAMES,
    ORGANISATIONS,
    Row,
    read_csv,
)
from crm.domain.imports.queue import SILENT_AFTER
from crm.domain.imports.rows import run_rows
from crm.domain.organisations.services import OrganisationService
from crm.domain.people.services import PersonService
from crm.lib.actor import SYSTEM, Actor, acting_as
from crm.lib.listing import ListQuery
from crm.lib.problems import ProblemError, field_error
from crm.lib.services import Service

# What reading the file found, kept from the upload into every report.
META = ("encoding", "delimiter", "delimiter_name", "header_line", "columns", "ignored_columns", "mapping")


def _meta(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report.get(k) for k in META}


class ImportService(Service[ImportBatch]):
    async def upload(
        self,
        kind: str,
        filename: str,
        data: bytes,
        requested_by: UUID | None,
        mapping: dict[str, str] | None = None,
    ) -> ImportBatch:
        """Reads the file (a file that cannot be read, or with a column not understood, is a 422
        now) and keeps its rows; the dry run is the worker's (`run_import`)."""
        parsed = read_csv(data, kind, mapping)
        if parsed.ignored_columns:
            # Read again knowing the places' names (read once per process), in case a column left
            # aside holds communes.
            places = await gazetteer(self.session)
            parsed = read_csv(data, kind, mapping, places.knows)
        batch = ImportBatch(
            kind=kind,
            filename=(filename or "import.csv")[:300],
            status=ImportStatus.CHECKING,
            encoding=parsed.encoding,
            delimiter=parsed.delimiter,
            rows=[{"line": r.line, "values": r.values} for r in parsed.rows],
            report={
                "kind": kind,
                "encoding": parsed.encoding,
                "delimiter": parsed.delimiter,
                "delimiter_name": DELIMITER_NAMES[parsed.delimiter],
                "header_line": parsed.header_line,
                "columns": parsed.columns,
                "ignored_columns": parsed.ignored_columns,
                "mapping": parsed.mapping,
            },
            total=len(parsed.rows),
            processed=0,
            heartbeat_at=datetime.now(UTC),
            requested_by=requested_by,
        )
        return await self.create(batch)

    async def request_apply(self, batch_id: UUID, requested_by: UUID | None) -> ImportBatch:
        """Hands a checked import to the worker. A batch whose check found bad rows is marked failed
        and answers 422 at once; one being checked or applied, or already applied, answers 409."""
        session = self.session
        batch = await session.scalar(select(ImportBatch).where(ImportBatch.id == batch_id).with_for_update())
        if batch is None:
            raise ProblemError(404, "No such import")
        if batch.status == ImportStatus.APPLIED:
            raise ProblemError(409, f"This import was already applied on {batch.applied_at:%Y-%m-%d %H:%M} UTC")
        if batch.status == ImportStatus.CHECKING:
            raise ProblemError(409, "This import is still being checked: apply it once its report is ready")
        if batch.status == ImportStatus.APPLYING:
            raise ProblemError(409, "This import is being applied already")
        report = batch.report
        if report.get("error_count"):
            batch.status = ImportStatus.FAILED
            await session.commit()  # keep the failed state; nothing else was written
            raise ProblemError(
                422,
                f"{report['error_count']} row error(s): nothing was imported; fix the file and check it again",
                errors=[
                    {
                        **field_error(e["column"] or "row", e["why"], e.get("code"), **(e.get("params") or {})),
                        "line": e["line"],
                        "column": e["column"],
                    }
                    for e in report["errors"]
                ],
                report=report,
            )
        batch.status = ImportStatus.APPLYING
        batch.processed = 0
        batch.heartbeat_at = datetime.now(UTC)
        batch.run_token = None
        batch.requested_by = requested_by
        return await self.update(batch)

    async def list_batches(self, query: ListQuery, sortable: frozenset[str], kind: str | None) -> tuple[Any, int]:
        conditions = [ImportBatch.kind == kind] if kind else []
        return await self.get_many_and_count(*query.filters(sortable, "-created_at"), *conditions)

    # --- exports -------------------------------------------------------------------------------

    async def start_export(self, kind: str, filters: dict[str, Any], q: str | None) -> None:
        """Checks the filters (a bad one is a 422 before any byte is sent) and logs the export."""
        probe = ListQuery(limit=1, offset=0, sort="id", q=q)
        if kind == ORGANISATIONS:
            await OrganisationService(session=self.session).search(probe, frozenset({"id"}), **filters)
        else:
            await PersonService(session=self.session).list_people(probe, frozenset({"id"}), **filters)
        entity_type = "organisation" if kind == ORGANISATIONS else "person"
        record(self.session, "export", entity_type, None, q=q, filters=filters)


# --- the worker's side -----------------------------------------------------------------------
# A job carries only the batch id; the batch's status says what is to be done. A job first claims
# the batch (a fresh token, unless another job has shown signs of life within SILENT_AFTER), writes
# its progress on a connection of its own (so that it is seen while the apply's transaction is
# open), and finishes only if it still holds the claim. A job that dies leaves the batch checking
# or applying with an old heartbeat: the sweeper queues it again, and the new job starts over
# (nothing of a dry run is kept, and an apply commits its rows and its status together).

CLAIM = text("""
UPDATE import_batch SET run_token = :token, heartbeat_at = now(), processed = 0
WHERE id = :id AND status IN ('checking', 'applying')
  AND (run_token IS NULL OR heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => :silent))
RETURNING status
""")
PROGRESS = text("""
UPDATE import_batch SET processed = :processed, heartbeat_at = now() WHERE id = :id AND run_token = :token
""")


class ClaimLost(Exception):
    """Another job took the batch over: this one stops and writes nothing."""


async def run_batch(config: SQLAlchemyAsyncConfig, batch_id: UUID) -> str:
    """Does what the batch is waiting for (its check or its apply); says what happened."""
    token = uuid4().hex
    engine = config.get_engine()
    async with engine.begin() as conn:
        status = await conn.scalar(CLAIM, {"id": batch_id, "token": token, "silent": SILENT_AFTER.total_seconds()})
    if status is None:
        return "nothing to do"

    async def progress(processed: int) -> None:
        async with engine.begin() as conn:
            found = await conn.execute(PROGRESS, {"id": batch_id, "token": token, "processed": processed})
        if not found.rowcount:
            raise ClaimLost

    async with config.get_session() as session:
        batch = await session.get(ImportBatch, batch_id)
        assert batch is not None
        actor = Actor(kind="staff", id=batch.requested_by) if batch.requested_by else SYSTEM
        rows = [Row(line=r["line"], values=r["values"]) for r in batch.rows]
        meta = _meta(batch.report)
        applying = ImportStatus(status) == ImportStatus.APPLYING
        with acting_as(actor):
            try:
                report = await run_rows(session, batch.kind, rows, meta, progress)
            except ClaimLost:
                await session.rollback()
                return "taken over by another job"
            except Exception as exc:
                await session.rollback()
                await _finish(session, batch_id, token, ImportStatus.FAILED, _stopped_report(batch, meta, exc))
                raise
            if not applying or report["error_count"]:
                # A dry run writes nothing; nor does an apply with a bad row.
                await session.rollback()
                outcome = ImportStatus.FAILED if applying else ImportStatus.CHECKED
            else:
                outcome = ImportStatus.APPLIED
            finished = await _finish(session, batch_id, token, outcome, report)
    return f"{outcome.value}: {len(rows)} rows" if finished else "taken over by another job"


async def _finish(
    session: AsyncSession, batch_id: UUID, token: str, status: ImportStatus, report: dict[str, Any]
) -> bool:
    """Writes the outcome, and commits it with the apply's rows, if this job still holds the batch."""
    batch = await session.get(ImportBatch, batch_id, with_for_update=True, populate_existing=True)
    if batch is None or batch.run_token != token:
        await session.rollback()
        return False
    batch.status = status
    batch.report = report
    batch.processed = batch.total
    batch.run_token = None
    batch.heartbeat_at = datetime.now(UTC)
    if status == ImportStatus.APPLIED:
        batch.applied_at = datetime.now(UTC)
    await session.commit()
    return True


def _stopped_report(batch: ImportBatch, meta: dict[str, Any], exc: Exception) -> dict[str, Any]:
    why = f"the import stopped on an unexpected error ({type(exc).__name__}); nothing was written"
    return {
        **meta,
        "kind": batch.kind,
        "rows": len(batch.rows),
        "errors": [{"line": 0, "column": "", "why": why}],
        "error_count": 1,
        "warnings": [],
        "warning_count": 0,
        "to_create": 0,
        "to_update": 0,
        "unchanged": 0,
        "first_to_create": [],
        "first_to_update": [],
        "first_unchanged": [],
    }
