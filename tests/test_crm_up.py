"""A newcomer's first command: `crm up` in a real subprocess, as the README says to run it.

Each run is started as a background job would start it (SIGINT ignored) and stopped with SIGTERM;
whatever happens in a test, the fixture ends every process `crm up` started."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from crm.embedded import free_port
from tests import services
from tests.conftest import TEST_DATABASE, recreate_database
from tests.smtp import SmtpSink

pytestmark = pytest.mark.slow
# Generous: the first run creates a PostgreSQL cluster and seeds the demo on a shared machine.
READY_TIMEOUT = 300
STOP_TIMEOUT = 120


def _embedded_processes(data_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(data_dir) in cmdline and ("postgres" in cmdline or "redis-server" in cmdline):
            found.append(proc)
    return found


def _ignore_sigint() -> None:
    # What a shell does to a job it starts in the background: Ctrl-C must not reach it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Running:
    """One `crm up`, its output as it comes, and every process seen under it."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crm.cli", "up", "--data-dir", str(data_dir), "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=Path(__file__).resolve().parents[1],
            preexec_fn=_ignore_sigint,
        )
        self.output: list[str] = []
        self.seen: dict[int, psutil.Process] = {self.process.pid: psutil.Process(self.process.pid)}
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    @property
    def text(self) -> str:
        return "".join(self.output)

    def note_processes(self) -> None:
        """Remembers the API, the worker and the embedded servers, so they can be ended later."""
        try:
            for child in psutil.Process(self.process.pid).children(recursive=True):
                self.seen.setdefault(child.pid, child)
        except psutil.NoSuchProcess:
            pass
        for proc in _embedded_processes(self.data_dir):
            self.seen.setdefault(proc.pid, proc)

    def wait_for(self, pattern: str, timeout: float = READY_TIMEOUT) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.note_processes()
            match = re.search(pattern, self.text)
            if match:
                return match
            if self.process.poll() is not None:
                self._reader.join(10)
                match = re.search(pattern, self.text)
                if match:
                    return match
                raise AssertionError(f"crm up exited ({self.process.returncode}) before {pattern!r}:\n{self.text}")
            time.sleep(0.1)
        raise AssertionError(f"crm up did not print {pattern!r} within {timeout} s:\n{self.text}")

    def wait_until_ready(self) -> None:
        self.wait_for(r"Ready in")
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            self.note_processes()
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.process.poll() is None, f"crm up exited:\n{self.text}"
            time.sleep(0.2)
        raise AssertionError(f"crm up did not become ready:\n{self.text}")

    def children_named(self, word: str) -> list[psutil.Process]:
        return [
            child
            for child in psutil.Process(self.process.pid).children()
            if child.is_running() and word in " ".join(child.cmdline())
        ]

    def stop(self) -> int:
        """SIGTERM, as a service manager or `kill` would send."""
        self.note_processes()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(STOP_TIMEOUT)
        self._reader.join(10)
        return code

    def running_processes(self) -> list[psutil.Process]:
        alive = []
        for proc in [*self.seen.values(), *_embedded_processes(self.data_dir)]:
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
            except psutil.NoSuchProcess:
                pass
        return alive

    def left_behind(self) -> list[psutil.Process]:
        """The processes still running well after `crm up` said it stopped (a server's helper
        processes may take a moment to exit after the server reported it was down)."""
        _gone, alive = psutil.wait_procs(self.running_processes(), timeout=STOP_TIMEOUT)
        return alive

    def end_everything(self) -> None:
        """The last resort of a failed test: terminate every process seen, then kill what stays."""
        self.note_processes()
        procs = self.running_processes()
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.terminate()
        _gone, alive = psutil.wait_procs(procs, timeout=30)
        for proc in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(alive, timeout=30)
        if self.process.poll() is None:
            self.process.wait(30)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "crm-data"


@pytest.fixture
def crm_up(data_dir: Path) -> Iterator[Callable[[dict[str, str]], Running]]:
    runs: list[Running] = []

    def start(env: dict[str, str]) -> Running:
        running = Running(data_dir, env)
        runs.append(running)
        running.wait_until_ready()
        return running

    try:
        yield start
    finally:
        for running in runs:  # a failed test must never leave a process behind
            running.end_everything()


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(extra)
    return env


def admin_in(banner: str) -> tuple[str, str]:
    match = re.search(r"E-mail: (\S+)\s+Password: (\S+)", banner)
    assert match, banner
    return match[1], match[2]


def log_in(base: str, email: str, password: str) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": password}, timeout=10)


def test_crm_up_on_the_embedded_default_then_again_with_the_same_data(
    data_dir: Path, crm_up: Callable[[dict[str, str]], Running]
) -> None:
    first = crm_up(_clean_env())
    email, password = admin_in(first.text)
    response = log_in(first.url, email, password)
    assert response.status_code == 201
    assert response.json()["role"] == "admin"
    assert "Secure" not in response.headers["set-cookie"]  # plain HTTP on a local run
    assert (data_dir / "postgres" / "PG_VERSION").exists()
    assert (data_dir / "redis").is_dir()
    assert (data_dir / "mail").is_dir()
    assert _embedded_processes(data_dir)
    # The address printed leads somewhere: the admin once built (crm up builds it when npm is
    # there), else a home page naming the public pages.
    from crm import adminui

    home = httpx.get(first.url, timeout=10, follow_redirects=True)
    assert home.status_code == 200
    if adminui.is_built():
        assert home.url.path == "/admin"
        assert '<div id="root">' in home.text
    else:
        assert 'href="/subscribe"' in home.text
        assert 'href="/archive"' in home.text
    # The demo has lists open to the public form.
    assert 'name="lists"' in httpx.get(f"{first.url}/subscribe", timeout=10).text

    assert first.stop() == 0, first.text
    assert "Stopped." in first.text
    assert first.left_behind() == []  # SIGTERM stopped the API, the worker and the embedded servers
    assert list((data_dir / "mail").glob("*.eml")) == []  # seeding the demo mailed nobody

    second = crm_up(_clean_env())
    assert "Password:" not in second.text
    # The account of the first run is still there: the data was kept.
    assert log_in(second.url, email, password).status_code == 201
    assert second.stop() == 0, second.text
    assert second.left_behind() == []


def test_crm_up_uses_configured_servers_and_restarts_a_worker_that_died(
    crm_up: Callable[[dict[str, str]], Running], database_server: str, redis_url: str, smtp: SmtpSink
) -> None:
    import asyncio

    asyncio.run(recreate_database(database_server, f"{TEST_DATABASE}_up"))
    env = _clean_env(
        CRM_DATABASE_URL=services.database_url(database_server, f"{TEST_DATABASE}_up"),
        CRM_REDIS_URL=redis_url.rsplit("/", 1)[0] + "/14",
        CRM_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
    )
    running = crm_up(env)
    banner = running.text
    assert "embedded" not in banner
    assert not running.data_dir.joinpath("postgres").exists()
    email, password = admin_in(banner)

    # The worker dies: crm up says so, starts another one and keeps serving.
    (worker,) = running.children_named(" worker")
    worker.send_signal(signal.SIGKILL)
    running.wait_for(r"The worker stopped \(killed by SIGKILL\); starting a new one\.")
    (new_worker,) = running.children_named(" worker")
    assert new_worker.pid != worker.pid
    assert running.process.poll() is None

    with httpx.Client(base_url=running.url, timeout=10) as client:
        me = client.post("/api/v1/auth/login", json={"email": email, "password": password}).json()
        sent = client.post(
            "/api/v1/system/test-email",
            json={"to": "ops@example.org"},
            headers={"X-CSRF-Token": me["csrf_token"]},
        )
        assert sent.status_code == 202
    # The new worker does the job: the message reaches the configured SMTP server.
    deadline = time.monotonic() + READY_TIMEOUT
    while not smtp.to("ops@example.org") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(smtp.to("ops@example.org")) == 1
    assert len(smtp.messages) == 1  # the demo seeded past campaigns, and mailed none of them

    assert running.stop() == 0, running.text
    assert running.left_behind() == []
