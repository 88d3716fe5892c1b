"""What every job finds in its arq context: settings, the database config (for services) and
the SMTP mailer, opened at worker start-up and closed at shut-down."""

from __future__ import annotations

import os
import socket
from typing import Any, TypedDict

from advanced_alchemy.config import SQLAlchemyAsyncConfig

from crm.config import Settings
from crm.lib.mail import Mailer, SmtpPool

# Names this process in lease columns (who holds a delivery or a message), for operators.
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


class JobContext(TypedDict):
    settings: Settings
    db_config: SQLAlchemyAsyncConfig
    mailer: Mailer
    smtp_pool: SmtpPool
    redis: Any
    job_id: str
    job_try: int
