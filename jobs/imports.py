"""CSV imports in the worker: the dry run and the apply of a batch, and the sweeper that queues
again the batches whose job died.

`run_import(batch_id)` does what the batch waits for (its status says: checking or applying) and
is safe to run twice: a job claims the batch first and a second one finds nothing to do; a job
presumed dead loses its claim and writes nothing. The rules are in `crm.domain.imports.services`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import structlog

from crm.domain.imports.queue import enqueue_import, stalled_imports

log = structlog.get_logger("jobs.imports")

# Every minute, at this second: a batch is re-queued once its job has been silent for SILENT_AFTER.
SWEEP_SECOND = 20


async def run_import(ctx: dict[str, Any], batch_id: str) -> str:
    # The import's rules (and the schemas of every record they write) load with the first import,
    # not with the worker: a worker that only sends campaigns stays small.
    from crm.domain.imports.services import run_batch

    outcome = await run_batch(ctx["db_config"], UUID(batch_id))
    log.info("import_run", batch_id=batch_id, outcome=outcome)
    return outcome


async def sweep_imports(ctx: dict[str, Any]) -> str:
    stalled = await stalled_imports(ctx["db_config"])
    for batch_id in stalled:
        await enqueue_import(ctx["redis"], batch_id)
    if stalled:
        log.warning("imports_requeued", batches=[str(b) for b in stalled])
    return f"re-queued {len(stalled)}"
