"""The API under load: requests per second and p99 latency of the main staff endpoints and a public
page at 1, 5 and 20 connections (`wrk` over loopback, a staff session cookie), against the real
`crm serve` with its default processes, over the demo data, beside two baselines of the same run:

- **SQL**: the very statements the API sent for each request (captured once from the app in this
  process), replayed through asyncpg with as many connections as the load has;
- **trivial**: `GET /health/live`, a Litestar JSON endpoint on the same server and middleware stack.

During each 20-connection series it also counts the PostgreSQL connections the API processes open
and close (pg_stat_activity's backends and pg_stat_database's session count; both must stay still
in a steady run) and times `GET /health/ready` ten times a second. Then it starts a campaign sent
at full rate by a real `crm worker` to an SMTP sink on this machine, and measures the 20-connection
series again while it sends. Last, the session check alone (cached), timed in this process.

    python bench/load.py [--seconds 4] [--before REV] [--servers uvicorn,granian] [--keep]

`--before REV` measures the HTTP series of that git revision too (`git archive` into a temporary
directory, served by this venv), in the same run, so that the table shows before and after;
`--servers` measures this checkout under each ASGI server named. All the servers measured run at
once and take turns series by series, so that a change of the machine's load falls on each alike.
`--keep` keeps the seeded bench database (`crm_bench_load`) for the next run. Needs `wrk`
(Debian's package), PostgreSQL (CRM_BENCH_SERVER or 127.0.0.1:5432) and Redis (CRM_REDIS_URL,
default redis://127.0.0.1:6379/14). On a shared machine compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from _common import ROOT, bench_database, ensure_demo, percentile, plain_url, settings_for

from crm.db.models.staff import Staff, StaffRole
from crm.embedded import free_port
from crm.lib.security import hash_password
from crm.lib.services import alchemy_config, open_session

BENCH_EMAIL = "bench.load@example.org"
PASSWORD = "bench password 123"
CONNECTIONS = (1, 5, 20)


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    sql: bool = True  # replayed in plain SQL as a baseline


TARGETS = (
    Target("organisations list", "/api/v1/organisations?limit=25"),
    Target("organisation detail", "/api/v1/organisations/{organisation_id}"),
    Target("people search", "/api/v1/people?q=martin&limit=25"),
    Target("session check /auth/me", "/api/v1/auth/me"),
    Target("public /archive", "/archive"),
    Target("trivial JSON /health/live", "/health/live", sql=False),
)
TRIVIAL = TARGETS[-1].name
# Measured again while a campaign sends.
UNDER_CAMPAIGN = ("organisations list", "people search", "session check /auth/me", "public /archive")


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int = 0
    ready: list[float] = field(default_factory=list)  # /health/ready latencies, s
    ready_failures: int = 0
    opened: int | None = None  # PostgreSQL backends of the API started during the series
    closed: int | None = None
    sessions: int | None = None  # pg_stat_database.sessions delta (every client of the database)

    def cell(self) -> str:
        text = f"{self.rps:,.0f} rps, p99 {self.p99_ms:.0f} ms"
        return text + (f" ({self.errors} errors)" if self.errors else "")


# ---- wrk -------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Figures:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    errors = 0
    if found := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        errors += int(found.group(1))
    if found := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(n) for n in found.groups())
    return Figures(rps, p50, p99, errors)


async def wrk(url: str, connections: int, seconds: float, cookie: str | None) -> Figures:
    # One wrk thread: wrk is far cheaper than the server, and the server needs the cores.
    args = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    process = await asyncio.create_subprocess_exec(
        *args, url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    return parse_wrk(output.decode())


# ---- what runs beside a series: /health/ready and PostgreSQL connections ------------------------


def api_ports(server: subprocess.Popen[bytes] | asyncio.subprocess.Process, pg_port: int) -> set[int]:
    """Local ports of the API processes' connections to PostgreSQL."""
    ports: set[int] = set()
    try:
        root = psutil.Process(server.pid)
        for process in [root, *root.children(recursive=True)]:
            try:
                for conn in process.net_connections(kind="tcp"):
                    if conn.raddr and conn.raddr.port == pg_port:
                        ports.add(conn.laddr.port)
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return ports


@asynccontextmanager
async def watched(
    monitor: asyncpg.Connection, database: str, server: Any, pg_port: int, base_url: str, figures_box: list[Figures]
) -> AsyncIterator[None]:
    """Times /health/ready and watches the API's PostgreSQL backends while the block runs; fills
    the Figures appended to `figures_box` inside the block."""
    ready: list[float] = []
    failures = 0
    seen: dict[int, Any] = {}  # pid -> backend_start, of the API's backends
    stop = asyncio.Event()

    async def backends() -> dict[int, Any]:
        ports = api_ports(server, pg_port)
        rows = await monitor.fetch(
            "SELECT pid, backend_start, client_port FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
        return {r["pid"]: r["backend_start"] for r in rows if r["client_port"] in ports}

    async def sessions() -> int:
        await monitor.execute("SELECT pg_stat_clear_snapshot()")
        return int(await monitor.fetchval("SELECT sessions FROM pg_stat_database WHERE datname = $1", database))

    async def probe() -> None:
        nonlocal failures
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    response = await client.get("/health/ready")
                    if response.status_code != 200:
                        failures += 1
                except httpx.HTTPError:
                    failures += 1
                ready.append(time.perf_counter() - started)
                await asyncio.sleep(0.1)

    async def sample() -> None:
        while not stop.is_set():
            for pid, start in (await backends()).items():
                seen.setdefault(pid, start)
            await asyncio.sleep(0.2)

    before = await backends()
    sessions_before = await sessions()
    series_started = await monitor.fetchval("SELECT now()")
    tasks = [asyncio.create_task(probe()), asyncio.create_task(sample())]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    after = await backends()
    seen.update(after)
    # Statistics reach pg_stat_database when a backend goes idle, at most once a second.
    await asyncio.sleep(1.2)
    sessions_after = await sessions()
    for figures in figures_box:
        figures.ready, figures.ready_failures = ready, failures
        figures.opened = sum(1 for start in seen.values() if start > series_started)
        figures.closed = sum(1 for pid in before if pid not in after)
        figures.sessions = sessions_after - sessions_before


# ---- the server ----------------------------------------------------------------------------


def server_env(url: str, code: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(
        CRM_DATABASE_URL=url,
        CRM_REDIS_URL=settings_for(url).redis_url or "",
        CRM_SECURITY_SECURE_COOKIES="false",
        CRM_LOG_LEVEL="WARNING",
    )
    if code is not None:  # another revision's code, ahead of this checkout's editable install
        env["PYTHONPATH"] = str(code)
    if secret := os.environ.get("CRM_SECURITY_SECRET_KEY"):
        env["CRM_SECURITY_SECRET_KEY"] = secret
    return env


@asynccontextmanager
async def serving(
    url: str, code: Path | None, extra_env: dict[str, str] | None = None
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    port = free_port()
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crm.cli",
        "serve",
        "--port",
        str(port),
        env=server_env(url, code) | (extra_env or {}),
        cwd=code or ROOT,
        stdout=subprocess.DEVNULL,
        stderr=errors,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if (await client.get("/health/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.returncode is not None or time.monotonic() > deadline:
                    errors.seek(0)
                    raise RuntimeError("crm serve did not start:\n" + errors.read().decode(errors="replace")[-3000:])
                await asyncio.sleep(0.2)
        yield server, base
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(server.wait(), 30)
            except TimeoutError:
                os.killpg(server.pid, signal.SIGKILL)
                await server.wait()
        errors.close()


async def login(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        response = await client.post("/api/v1/auth/login", json={"email": BENCH_EMAIL, "password": PASSWORD})
        assert response.status_code == 201, response.text
        token = response.cookies.get("crm_session")
        assert token
        return f"crm_session={token}"


async def measure_http(
    url: str,
    variants: dict[str, Variant],
    paths: dict[str, str],
    monitor: asyncpg.Connection,
    database: str,
    pg_port: int,
    seconds: float,
    names: Sequence[str],
    connections: Sequence[int],
) -> dict[str, dict[tuple[str, int], Figures]]:
    """Each variant (a label and the code it serves) runs its own `crm serve`, all at once; the
    series take turns, so that a change in the machine's load falls on each variant alike."""
    results: dict[str, dict[tuple[str, int], Figures]] = {label: {} for label in variants}
    async with AsyncExitStack() as stack:
        servers = {
            label: await stack.enter_async_context(serving(url, code, extra_env))
            for label, (code, extra_env) in variants.items()
        }
        cookies = {label: await login(base) for label, (_, base) in servers.items()}
        # Warm up every process: pools (filled up to their size), prepared statements, caches.
        for label, (_, base) in servers.items():
            for name in names:
                await wrk(base + paths[name], 20, 3, cookies[label])
        for name in names:
            for n in connections:
                for label, (server, base) in servers.items():
                    box: list[Figures] = []
                    if n == max(connections):
                        async with watched(monitor, database, server, pg_port, base, box):
                            box.append(await wrk(base + paths[name], n, seconds, cookies[label]))
                    else:
                        box.append(await wrk(base + paths[name], n, seconds, cookies[label]))
                    results[label][(name, n)] = box[0]
                    print(f"  {label:8} {name:28} {n:>2} conn: {box[0].cell()}", flush=True)
    return results


# ---- the SQL baseline -----------------------------------------------------------------------


async def capture_statements(url: str, paths: dict[str, str]) -> dict[str, list[tuple[str, tuple[Any, ...]]]]:
    """The statements the API sends for one request to each path, with their parameters as the
    driver receives them: the app runs in this process once, a listener records them."""
    from litestar.testing import AsyncTestClient
    from sqlalchemy import event

    from crm.app import create_app

    app = create_app(settings_for(url))
    captured: list[tuple[str, tuple[Any, ...]]] = []
    statements: dict[str, list[tuple[str, tuple[Any, ...]]]] = {}

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, tuple(parameters or ())))

    logging.getLogger("httpx").setLevel(logging.WARNING)
    async with AsyncTestClient(app=app) as client:
        engine = app.state.db_config.get_engine()
        event.listen(engine.sync_engine, "before_cursor_execute", listen)
        response = await client.post("/api/v1/auth/login", json={"email": BENCH_EMAIL, "password": PASSWORD})
        assert response.status_code == 201, response.text
        for name, path in paths.items():
            # The second request is the one recorded (the first fills caches), unless it was
            # answered from the page cache: then the first one's statements are the page's.
            captured.clear()
            await client.get(path)
            first = list(captured)
            captured.clear()
            response = await client.get(path)
            assert response.status_code == 200, (name, response.text)
            statements[name] = list(captured) or first
        event.remove(engine.sync_engine, "before_cursor_execute", listen)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return statements


async def measure_sql(
    url: str, statements: list[tuple[str, tuple[Any, ...]]], connections: int, seconds: float
) -> Figures:
    pool = await asyncpg.create_pool(plain_url(url), min_size=connections, max_size=connections)
    assert pool is not None
    durations: list[float] = []
    try:

        async def one() -> None:
            async with pool.acquire() as conn:
                for statement, parameters in statements:
                    await conn.fetch(statement, *parameters)

        async def lane(until: float, record: bool) -> None:
            while time.perf_counter() < until:
                started = time.perf_counter()
                await one()
                if record:
                    durations.append(time.perf_counter() - started)

        await asyncio.gather(*(lane(time.perf_counter() + 0.5, False) for _ in range(connections)))
        started = time.perf_counter()
        await asyncio.gather(*(lane(started + seconds, True) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    finally:
        await pool.close()
    return Figures(len(durations) / elapsed, percentile(durations, 50) * 1000, percentile(durations, 99) * 1000)


# ---- the campaign ---------------------------------------------------------------------------


# A `crm serve` to measure: the code it runs (None: this checkout) and its own environment.
Variant = tuple[Path | None, dict[str, str]]


@dataclass
class Sending:
    conn: asyncpg.Connection
    campaign_id: uuid.UUID
    sent: Any  # a shared counter of the messages the sink received

    async def status(self) -> str:
        return str(await self.conn.fetchval("SELECT status FROM campaign WHERE id = $1", self.campaign_id))


@asynccontextmanager
async def campaign_sending(url: str, recipients: int) -> AsyncIterator[Sending]:
    """A campaign being sent at full rate by one real worker to an SMTP sink that only counts."""
    from sending import make_campaign, run_sink, start

    port = free_port()
    counter = multiprocessing.Value("q", 0)
    sink = multiprocessing.Process(target=run_sink, args=(port, counter), daemon=True)
    sink.start()
    list_id = await make_campaign(url, recipients)
    campaign_id, _ = await start(url, list_id)
    env = server_env(url, None) | {
        "CRM_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "CRM_SENDING_RATE_PER_SECOND": "0",
        "CRM_SENDING_SWEEP_EVERY_SECONDS": "2",
    }
    worker = subprocess.Popen(  # noqa: ASYNC220 - started once, stopped below
        [sys.executable, "-m", "crm.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    conn = await asyncpg.connect(plain_url(url))
    try:
        deadline = time.monotonic() + 120
        while counter.value == 0 and time.monotonic() < deadline:  # noqa: ASYNC110 - another process counts
            await asyncio.sleep(0.2)
        yield Sending(conn, uuid.UUID(campaign_id), counter)
    finally:
        worker.terminate()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:  # arq waits for the send job; its leases make that safe
            worker.kill()
            worker.wait()
        sink.terminate()
        cid, lid = uuid.UUID(campaign_id), uuid.UUID(list_id)
        await conn.execute("DELETE FROM delivery WHERE campaign_id = $1", cid)
        await conn.execute("DELETE FROM campaign WHERE id = $1", cid)
        await conn.execute("DELETE FROM subscription WHERE list_id = $1", lid)
        await conn.execute("DELETE FROM person WHERE email LIKE $1", f"bench%-{lid.hex[:6]}@ville-exemple.fr")
        await conn.execute("DELETE FROM mailing_list WHERE id = $1", lid)
        await conn.close()


# ---- the session check ----------------------------------------------------------------------


async def session_check_cost(url: str, samples: int = 5000) -> tuple[float, float]:
    """Microseconds per staff session check: read from Redis on every request (as before the
    cache), and through the API processes' `SessionCache` once warm."""
    from crm.lib.redis import connect_redis
    from crm.lib.sessions import SessionCache, load_session
    from crm.lib.sessions import open_session as open_staff_session

    redis = connect_redis(settings_for(url).redis_url)
    cache = SessionCache(redis)
    listener = asyncio.create_task(cache.listen())
    try:
        token, _ = await open_staff_session(redis, uuid.uuid4(), "viewer", 600)
        figures = []
        for check in (load_session, lambda redis, token: cache.load(token)):
            while not cache.subscribed:  # noqa: ASYNC110 - the listener's own task sets it
                await asyncio.sleep(0.01)
            assert await check(redis, token) is not None
            started = time.perf_counter()
            for _ in range(samples):
                assert await check(redis, token) is not None
            figures.append((time.perf_counter() - started) / samples * 1e6)
        return figures[0], figures[1]
    finally:
        listener.cancel()
        with suppress(asyncio.CancelledError):
            await listener
        await redis.aclose()


# ---- setup and output -----------------------------------------------------------------------


async def ensure_staff(url: str) -> None:
    config = alchemy_config(settings_for(url))
    try:
        async with open_session(config) as session:
            from sqlalchemy import select

            if await session.scalar(select(Staff).where(Staff.email == BENCH_EMAIL)) is None:
                session.add(
                    Staff(email=BENCH_EMAIL, name="Bench", role=StaffRole.VIEWER, password_hash=hash_password(PASSWORD))
                )
    finally:
        await config.get_engine().dispose()


def export_revision(revision: str) -> Path:
    target = Path(tempfile.mkdtemp(prefix="crm-before-"))
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def ready_summary(figures: Figures) -> str:
    if not figures.ready:
        return ""
    return (
        f"/health/ready p99 {percentile(figures.ready, 99) * 1000:.0f} ms, max {max(figures.ready) * 1000:.0f} ms"
        + (f", {figures.ready_failures} failed" if figures.ready_failures else "")
    )


def print_table(
    title: str, columns: Sequence[str], rows: dict[str, dict[str, Figures | None]], connections: Sequence[int]
) -> None:
    print(f"\n{title}")
    header = "| request | " + " | ".join(f"{c}: {n} conn" for c in columns for n in connections) + " |"
    print(header)
    print("|---" * (1 + len(columns) * len(connections)) + "|")
    for name, cells in rows.items():
        values = []
        for c in columns:
            for n in connections:
                figures = cells.get(f"{c}/{n}")
                values.append(figures.cell() if figures else "")
        print(f"| {name} | " + " | ".join(values) + " |")


async def main(seconds: float, before: str | None, keep: bool, recipients: int, servers: list[str]) -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (apt-get install wrk)")
    started = time.monotonic()
    async with bench_database("load", keep=keep) as url:
        print(await ensure_demo(url))
        await ensure_staff(url)
        admin = await asyncpg.connect(plain_url(url))
        try:
            for table in ("organisation", "membership", "person", "position", "staff"):
                await admin.execute(f"VACUUM ANALYZE {table}")
            organisation_id = await admin.fetchval("SELECT id FROM organisation ORDER BY name LIMIT 1")
            database = await admin.fetchval("SELECT current_database()")
            pg_port = int(await admin.fetchval("SELECT inet_server_port()") or 5432)
        finally:
            await admin.close()
        paths = {t.name: t.path.format(organisation_id=organisation_id) for t in TARGETS}
        names = [t.name for t in TARGETS]
        print(f"processes: `crm serve` defaults; {seconds:.0f} s per series; load average {os.getloadavg()[0]:.1f}")

        monitor = await asyncpg.connect(plain_url(url))
        results: dict[str, dict[tuple[str, int], Figures]] = {}
        try:
            code = export_revision(before) if before else None
            try:
                variants: dict[str, Variant] = {"before": (code, {})} if code else {}
                for server in servers or [""]:
                    label = ("after" if code else "API") + (f" {server}" if len(servers) > 1 else "")
                    variants[label] = (None, {"CRM_API_SERVER": server} if server else {})
                print("HTTP (wrk):", flush=True)
                results.update(
                    await measure_http(url, variants, paths, monitor, database, pg_port, seconds, names, CONNECTIONS)
                )
            finally:
                if code:
                    shutil.rmtree(code, ignore_errors=True)

            print("SQL baseline (the API's own statements through asyncpg):", flush=True)
            statements = await capture_statements(url, {t.name: paths[t.name] for t in TARGETS if t.sql})
            sql: dict[tuple[str, int], Figures] = {}
            for t in TARGETS:
                if t.sql:
                    for n in CONNECTIONS:
                        sql[(t.name, n)] = await measure_sql(url, statements[t.name], n, min(seconds, 3))
                    print(
                        f"  {t.name:28} {len(statements[t.name])} statements: "
                        + ", ".join(sql[(t.name, n)].cell() for n in CONNECTIONS),
                        flush=True,
                    )
            results["SQL"] = sql

            print(f"While a campaign of {recipients:,} recipients is sent by a worker:", flush=True)
            async with campaign_sending(url, recipients) as sending:
                sent_before, t0 = sending.sent.value, time.perf_counter()
                campaign = await measure_http(
                    url, {"campaign": (None, {})}, paths, monitor, database, pg_port, seconds, UNDER_CAMPAIGN, (20,)
                )
                results.update(campaign)
                rate = (sending.sent.value - sent_before) / (time.perf_counter() - t0)
                finished = await sending.status()
            print(f"  the worker sent {rate:,.0f} messages/s meanwhile (campaign {finished} at the end)")
        finally:
            await monitor.close()

        check_redis_us, check_cached_us = await session_check_cost(url)

    columns = [c for c in results if c not in ("SQL", "campaign")]
    rows: dict[str, dict[str, Figures | None]] = {}
    for t in TARGETS:
        rows[t.name] = {f"{c}/{n}": results[c].get((t.name, n)) for c in columns for n in CONNECTIONS}
    print_table("API (wrk, staff cookie on /api/*):", columns, rows, CONNECTIONS)
    sql_rows = {t.name: {f"SQL/{n}": results["SQL"][(t.name, n)] for n in CONNECTIONS} for t in TARGETS if t.sql}
    print_table("SQL baseline (the same statements, asyncpg, one client process):", ["SQL"], sql_rows, CONNECTIONS)
    print("\nRatios of requests/s at 20 connections:")
    for column in columns:
        for t in TARGETS:
            api = results[column][(t.name, 20)]
            parts = [f"{api.rps / results[column][(TRIVIAL, 20)].rps:.2f}x trivial"]
            if t.sql:
                parts.append(f"{api.rps / results['SQL'][(t.name, 20)].rps:.2f}x SQL")
            if "before" in results and column != "before":
                parts.append(f"{api.rps / results['before'][(t.name, 20)].rps:.2f}x before")
            print(f"  {column:16} {t.name:28} " + ", ".join(parts))
    last = columns[-1]

    print(
        "\nDuring each 20-connection series: API backends opened / closed (pg_stat_activity), "
        "sessions started in the database (pg_stat_database), /health/ready:"
    )
    for column in [*columns, "campaign"]:
        for t in TARGETS:
            figures = results[column].get((t.name, 20))
            if figures is not None:
                print(
                    f"  {column:16} {t.name:28} opened {figures.opened}, closed {figures.closed}, "
                    f"sessions {figures.sessions}; {ready_summary(figures)}"
                )
    print("\nWhile the campaign sends (20 connections):")
    for name in UNDER_CAMPAIGN:
        print(f"  {name:28} {results['campaign'][(name, 20)].cell()} (without: {results[last][(name, 20)].cell()})")
    print(
        f"\nSession check, per request: {check_cached_us:.1f} µs cached (SessionCache), "
        f"{check_redis_us:.0f} µs reading Redis each time"
    )
    print(f"load average now {os.getloadavg()[0]:.1f}; whole run {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4, help="seconds per series")
    parser.add_argument("--before", help="a git revision to measure too, in the same run")
    parser.add_argument(
        "--servers",
        default="",
        help="ASGI servers to measure this checkout with, e.g. uvicorn,granian (default: crm serve's)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the seeded bench database for the next run")
    parser.add_argument("--recipients", type=int, default=20_000, help="recipients of the campaign sent meanwhile")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    asyncio.run(main(args.seconds, args.before, args.keep, args.recipients, [s for s in args.servers.split(",") if s]))
