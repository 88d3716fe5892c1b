"""The `crm` command: `up` for a local run on the embedded default, and what an operator needs."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import click

from crm.config import Settings, get_settings

ADMIN_EMAIL = "admin@example.org"


def _settings() -> Settings:
    get_settings.cache_clear()
    return get_settings()


def _alembic_config(database_url: str | None = None) -> Any:
    from alembic.config import Config

    root = Path(__file__).resolve().parents[1]
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "alembic"))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url)
    return config


def run_migrations(revision: str = "head") -> None:
    from alembic import command

    command.upgrade(_alembic_config(), revision)


async def _ensure_admin(settings: Settings, email: str, password: str | None) -> tuple[str, str] | None:
    """With a password: create or reset that admin. Without: create the first admin only when
    there is no staff account at all, with a generated password. Returns what to print."""
    from crm.domain.staff.services import StaffService
    from crm.lib.security import generate_password
    from crm.lib.services import alchemy_config, provide_services

    config = alchemy_config(settings)
    try:
        async with provide_services(config, StaffService) as (staff_service,):
            if password is None:
                if not await staff_service.is_empty():
                    return None
                password = generate_password()
            staff, _created = await staff_service.set_admin(email, password)
            return staff.email, password
    finally:
        await config.get_engine().dispose()


def _wait_until_serving(host: str, port: int, children: list[subprocess.Popen[bytes]]) -> None:
    """The banner promises a running API: wait until it answers (or a child died)."""
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and all(child.poll() is None for child in children):
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/health/live", timeout=1):
                return
        except OSError:
            time.sleep(0.2)


# A process that keeps dying is not worth restarting forever: after this many stops within the
# window, `crm up` gives up and stops everything, so that the error shows instead of scrolling by.
RESTART_LIMIT = 5
RESTART_WINDOW = 60.0


class _Child:
    """A process `crm up` runs and keeps running: the API or the worker."""

    def __init__(self, name: str, args: list[str]) -> None:
        self.name = name
        self.args = args
        self.stops: deque[float] = deque(maxlen=RESTART_LIMIT)
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.args)  # noqa: S603 - our own command, fixed arguments

    def restart_if_stopped(self) -> None:
        code = self.process.poll()
        if code is None:
            return
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        now = time.monotonic()
        self.stops.append(now)
        if len(self.stops) == RESTART_LIMIT and now - self.stops[0] < RESTART_WINDOW:
            click.echo(
                f"The {self.name} stopped {RESTART_LIMIT} times within {RESTART_WINDOW:.0f} s ({how}); "
                "stopping everything.",
                err=True,
            )
            raise SystemExit(1)
        self.process = self._start()
        click.echo(f"The {self.name} stopped ({how}); starting a new one.", err=True)

    def stop(self) -> None:
        # SIGTERM, not SIGINT: a process started from a background shell ignores SIGINT, while
        # the API server and arq both stop gracefully on SIGTERM.
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self) -> None:
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@click.group()
def main() -> None:
    """Member-network CRM and newsletter service."""


@main.command()
def migrate() -> None:
    """Apply the database migrations (CRM_DATABASE_URL)."""
    run_migrations()
    click.echo("Database schema is up to date.")


@main.command("create-admin")
@click.option("--email", help="The admin's e-mail address")
@click.option("--password", help="At least 10 characters; asked for when left out")
def create_admin(email: str | None, password: str | None) -> None:
    """Create an admin account, or make an existing account an admin with a new password."""
    from crm.lib.problems import ProblemError

    email = email or click.prompt("E-mail")
    if not password:
        password = getpass.getpass("Password (10 characters or more): ")
        if getpass.getpass("Same password again: ") != password:
            raise click.ClickException("The two passwords differ")
    try:
        result = asyncio.run(_ensure_admin(_settings(), email, password))
    except ProblemError as exc:
        raise click.ClickException(exc.detail) from exc
    assert result is not None
    click.echo(f"Admin account ready: {result[0]}")


@main.command()
@click.option("--demo", is_flag=True, help="Seed the demo data: real places, invented people")
@click.option("--seed", "seed_value", default=None, type=int, help="Random seed (same seed, same data)")
def seed(demo: bool, seed_value: int | None) -> None:
    """Seed data into the database (CRM_DATABASE_URL). Safe to run twice: the second run adds nothing."""
    from crm.demo import DEFAULT_SEED, seed_demo_database

    if not demo:
        raise click.UsageError("Say what to seed: `crm seed --demo`")
    result = asyncio.run(seed_demo_database(_settings(), seed=DEFAULT_SEED if seed_value is None else seed_value))
    click.echo(result.summary())


def _default_workers() -> int:
    """One API process per core: a process runs Python on one core at a time."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    envvar="CRM_API_WORKERS",
    type=click.IntRange(1, 256),
    help="API processes (CRM_API_WORKERS)  [default: one per core]",
)
@click.option(
    "--server",
    "server_name",
    envvar="CRM_API_SERVER",
    type=click.Choice(["granian", "uvicorn"]),
    # In bench/load.py granian answered 4 to 6 times the requests/s of uvicorn on light requests
    # (the trivial endpoint, the cached archive) and as many on database-bound ones.
    default="granian",
    show_default=True,
    help="ASGI server (CRM_API_SERVER)",
)
def serve(host: str, port: int, workers: int | None, server_name: str) -> None:
    """Serve the API (and the admin app)."""
    workers = workers or _default_workers()
    if server_name == "granian":
        from granian import Granian
        from granian.constants import Interfaces, Loops

        Granian(
            "crm.app:create_served_app",
            factory=True,
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=workers,
            loop=Loops.uvloop,
            log_access=False,
            log_level="warning",  # type: ignore[arg-type]
            # A worker process that dies is started again, as uvicorn does.
            respawn_failed_workers=True,
        ).serve()
        return
    import uvicorn

    uvicorn.run(
        "crm.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # The app reads X-Forwarded-For itself, from CRM_TRUSTED_PROXIES only (crm/lib/client_address.py):
        # uvicorn's own rewrite would trust 127.0.0.1 behind the operator's back.
        proxy_headers=False,
        log_config=None,
        access_log=False,
    )


@main.command()
@click.option("--check", is_flag=True, help="Exit 0 when a worker reported healthy recently, 1 otherwise")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit")
def worker(check: bool, burst: bool) -> None:
    """Run the arq worker (sending, scheduled jobs)."""
    from arq.worker import check_health, run_worker

    from jobs.worker import WorkerSettings, redis_settings

    WorkerSettings.redis_settings = redis_settings()  # type: ignore[attr-defined]
    if check:
        sys.exit(check_health(WorkerSettings))  # type: ignore[arg-type]
    run_worker(WorkerSettings, burst=burst)  # type: ignore[arg-type]


@main.command()
@click.option("--host", help="Address to listen on [default: CRM_DELIVERABILITY_INBOUND_HOST]")
@click.option("--port", type=int, help="Port to listen on [default: CRM_DELIVERABILITY_INBOUND_PORT]")
def inbound(host: str | None, port: int | None) -> None:
    """Receive bounces, feedback-loop reports and mailto unsubscribes over SMTP (the MX of the
    bounce domain and of the unsubscribe mailbox leads here); with CRM_DELIVERABILITY_IMAP_URL,
    also poll that mailbox."""
    from crm.domain.deliverability.inbound import poll_imap, start_inbound
    from crm.lib.logging import configure_logging
    from crm.lib.services import alchemy_config

    settings = _settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    host = host or settings.deliverability.inbound_host
    port = port or settings.deliverability.inbound_port

    async def run() -> None:
        db_config = alchemy_config(settings)
        controller = start_inbound(settings, db_config, host, port)
        click.echo(f"Receiving bounces and unsubscribe requests on {host}:{port} (SMTP)")
        try:
            if settings.deliverability.imap_url is not None:
                await poll_imap(settings, db_config)
            else:
                await asyncio.Event().wait()
        finally:
            controller.stop()
            await db_config.get_engine().dispose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def _build_admin(*, force: bool = False, quiet: bool = False) -> None:
    from crm import adminui

    if not force and adminui.is_current():
        return
    click.echo("Building the admin app (npm; about a minute the first time)...")
    try:
        adminui.build(force=force)
    except adminui.AdminBuildError as error:
        if not quiet:
            raise click.ClickException(str(error)) from error
        # The API and public pages work without it; /admin then says how to build it.
        click.echo(f"The admin app could not be built; the API still runs. {error}", err=True)


@main.command("build-admin")
@click.option("--force", is_flag=True, help="Build even when the sources did not change")
def build_admin(force: bool) -> None:
    """Build the staff admin (admin/, react-admin + Vite) into admin/dist, served at /admin."""
    _build_admin(force=force)
    click.echo("The admin app is built: admin/dist")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--data-dir", type=click.Path(path_type=Path), help="Where embedded data lives [default: var]")
def up(host: str, port: int, data_dir: Path | None) -> None:
    """Run everything locally: PostgreSQL, Redis and an SMTP sink embedded (unless CRM_DATABASE_URL,
    CRM_REDIS_URL, CRM_SMTP_URL name servers), migrations, first admin, demo data, API and worker.
    A process that dies is started again; Ctrl-C or SIGTERM stops it all."""
    from crm.embedded import EmbeddedPostgres, EmbeddedRedis, MailSink, free_port, secret_key_file

    started = time.monotonic()
    settings = _settings()
    data_dir = (data_dir or settings.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    embedded: list[Any] = []
    children: list[_Child] = []

    def shutdown(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, shutdown)
    try:
        if not settings.database.url:
            click.echo("Starting the embedded PostgreSQL...")
            pg = EmbeddedPostgres(data_dir)
            embedded.append(pg)
            os.environ["CRM_DATABASE_URL"] = pg.start()
        if not settings.redis.url:
            click.echo("Starting the embedded Redis...")
            redis = EmbeddedRedis(data_dir)
            embedded.append(redis)
            os.environ["CRM_REDIS_URL"] = redis.start()
        if settings.smtp.url is None:
            sink = MailSink(data_dir)
            embedded.append(sink)
            os.environ["CRM_SMTP_URL"] = sink.start()
            click.echo(f"Mail goes to the local SMTP sink: every message is kept in {sink.dir}")
        os.environ.setdefault("CRM_SECURITY_SECRET_KEY", secret_key_file(data_dir))
        os.environ.setdefault("CRM_PUBLIC_URL", f"http://{host}:{port}")
        # Bounces and mailto unsubscribes come back to `crm inbound`: a free port unless chosen.
        os.environ.setdefault("CRM_DELIVERABILITY_INBOUND_PORT", str(free_port(settings.deliverability.inbound_port)))
        # A local run is plain HTTP: a Secure cookie would never come back.
        os.environ.setdefault("CRM_SECURITY_SECURE_COOKIES", "false")
        settings = _settings()

        click.echo("Applying migrations...")
        run_migrations()
        admin = asyncio.run(_ensure_admin(settings, ADMIN_EMAIL, None))
        from crm.demo import seed_demo_database

        # Demo data only into a database without organisations: never mixed into real data.
        seeded = asyncio.run(seed_demo_database(settings, only_if_empty=True))
        if seeded.added:
            click.echo(seeded.summary())

        _build_admin(quiet=True)
        command = [sys.executable, "-m", "crm.cli"]
        children.append(_Child("API", [*command, "serve", "--host", host, "--port", str(port)]))
        children.append(_Child("worker", [*command, "worker"]))
        children.append(_Child("inbound", [*command, "inbound"]))
        _wait_until_serving(host, port, [child.process for child in children])
        click.echo("")
        click.echo(f"CRM is running at http://{host}:{port}/admin  (API: /api/v1, docs: /schema)")
        if admin:
            click.echo(f"Admin account created. E-mail: {admin[0]}  Password: {admin[1]}")
        else:
            click.echo("Log in with your admin account (reset it with `crm create-admin`).")
        click.echo(f"Ready in {time.monotonic() - started:.1f} s. Press Ctrl-C to stop.")
        sys.stdout.flush()
        while True:
            for child in children:
                child.restart_if_stopped()
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("\nStopping...")
    finally:
        # Stopping must finish even if the signal comes again: a half stop leaves servers behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in children:
            child.stop()
        for child in children:
            child.wait()
        for service in reversed(embedded):
            service.stop()
        click.echo("Stopped.")


if __name__ == "__main__":
    main()
