"""The arq entry point of questionnaire reminders; the work is in crm.domain.questionnaires."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from crm.domain.questionnaires.services import queue_reminders
from crm.domain.system import mail as system_mail
from crm.lib.services import open_session

# Reminder dates are French calendar days.
PARIS = ZoneInfo("Europe/Paris")


async def questionnaire_reminders(ctx: dict[str, Any]) -> str:
    """Queues today's reminders (once per person and day, whichever worker runs it), then wakes
    the system mail. Safe on every worker at once: rows are claimed with SKIP LOCKED."""
    async with open_session(ctx["db_config"]) as session:
        queued = await queue_reminders(session, datetime.now(PARIS).date())
    if queued:
        await system_mail.wake(ctx["redis"])
    return f"reminders queued {queued}"
