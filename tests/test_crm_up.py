"""A newcomer's first command: `crm up` in a real subprocess, as the README says to run it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from crm.embedded import free_port
from tests import services
from tests.conftest import TEST_DATABASE, recreate_database
from tests.smtp import SmtpSink

pytestmark = pytest.mark.slow
READY_TIMEOUT = 120


class Running:
    def __init__(self, process: subprocess.Popen[str], port: int, output: list[str]) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"
        self.output = output

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(60)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(extra)
    return env


def start_up(data_dir: Path, env: dict[str, str]) -> Running:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "crm.cli", "up", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    output: list[str] = []
    deadline = time.monotonic() + READY_TIMEOUT
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)
        if "Ready in" in line or time.monotonic() > deadline:
            break
    running = Running(process, port, output)
    # The API process starts after the banner: wait until it answers ready.
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{running.url}/health/ready", timeout=2).status_code == 200:
                return running
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise AssertionError("crm up did not become ready:\n" + "".join(output))


def _embedded_processes(data_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(data_dir) in cmdline and ("postgres" in cmdline or "redis-server" in cmdline):
            found.append(proc)
    return found


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "crm-data"
    yield path
    for proc in _embedded_processes(path):  # never leave a server behind a failed test
        proc.kill()


def log_in(base: str, email: str, password: str) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": password}, timeout=10)


def test_crm_up_on_the_embedded_default_then_again_with_the_same_data(data_dir: Path) -> None:
    first = start_up(data_dir, _clean_env())
    try:
        banner = "".join(first.output)
        match = re.search(r"E-mail: (\S+)\s+Password: (\S+)", banner)
        assert match, banner
        email, password = match.groups()
        response = log_in(first.url, email, password)
        assert response.status_code == 201
        assert response.json()["role"] == "admin"
        assert "Secure" not in response.headers["set-cookie"]  # plain HTTP on a local run
        assert (data_dir / "postgres" / "PG_VERSION").exists()
        assert (data_dir / "redis").is_dir()
        assert (data_dir / "mail").is_dir()
        assert _embedded_processes(data_dir)
    finally:
        code = first.stop()
    assert code == 0, "".join(first.output)
    assert _embedded_processes(data_dir) == []  # Ctrl-C stopped the embedded servers too

    second = start_up(data_dir, _clean_env())
    try:
        assert "Password:" not in "".join(second.output)
        # The account of the first run is still there: the data was kept.
        assert log_in(second.url, email, password).status_code == 201
    finally:
        assert second.stop() == 0


def test_crm_up_uses_configured_servers_and_sends_through_them(
    data_dir: Path, database_server: str, redis_url: str, smtp: SmtpSink
) -> None:
    import asyncio

    asyncio.run(recreate_database(database_server, f"{TEST_DATABASE}_up"))
    env = _clean_env(
        CRM_DATABASE_URL=services.database_url(database_server, f"{TEST_DATABASE}_up"),
        CRM_REDIS_URL=redis_url.rsplit("/", 1)[0] + "/14",
        CRM_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
    )
    running = start_up(data_dir, env)
    try:
        banner = "".join(running.output)
        assert "embedded" not in banner
        assert not (data_dir / "postgres").exists()
        email, password = re.search(r"E-mail: (\S+)\s+Password: (\S+)", banner).groups()  # type: ignore[union-attr]
        with httpx.Client(base_url=running.url, timeout=10) as client:
            me = client.post("/api/v1/auth/login", json={"email": email, "password": password}).json()
            sent = client.post(
                "/api/v1/system/test-email",
                json={"to": "ops@example.org"},
                headers={"X-CSRF-Token": me["csrf_token"]},
            )
            assert sent.status_code == 202
        deadline = time.monotonic() + 30
        while not smtp.to("ops@example.org") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(smtp.to("ops@example.org")) == 1
    finally:
        assert running.stop() == 0
