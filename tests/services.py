"""The servers the tests run against: the machine's PostgreSQL and Redis when they answer
(CI, developers), else embedded ones started from the wheels, so the README's test command
works the same on a machine with no servers."""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
EMBEDDED_DIR = ROOT / "var" / "test-services"


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    if parts.hostname is None:  # a unix socket: assume the caller knows it is there
        return True
    with (
        contextlib.suppress(OSError),
        socket.create_connection((parts.hostname, parts.port or default_port), 1),
    ):
        return True
    return False


def database_server_url() -> str:
    """A URL of a PostgreSQL server, database part left to the caller (`.../{db}`)."""
    url = os.environ.get("CRM_TEST_DATABASE_SERVER", "postgresql://postgres@127.0.0.1:5432")
    if _answers(url, 5432):
        return url.rstrip("/")
    from crm.embedded import EmbeddedPostgres

    EMBEDDED_DIR.mkdir(parents=True, exist_ok=True)
    uri = EmbeddedPostgres(EMBEDDED_DIR).start()  # postgresql://postgres:@/crm?host=/sock
    return uri.replace("/crm?", "/{db}?", 1)


def redis_url() -> str:
    url = os.environ.get("CRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    if _answers(url, 6379):
        return url
    from crm.embedded import EmbeddedRedis

    EMBEDDED_DIR.mkdir(parents=True, exist_ok=True)
    return EmbeddedRedis(EMBEDDED_DIR).start().rsplit("/", 1)[0] + "/15"


def database_url(server: str, name: str) -> str:
    if "{db}" in server:
        return server.replace("{db}", name)
    return f"{server}/{name}"
