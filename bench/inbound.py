"""Bounces processed per second through `crm inbound`, beside a baseline measured in the same
run: a plain aiosmtpd server that accepts the same messages and does nothing with them.

Both receive the same N delivery status notifications (70 % Gmail-like hard bounces, 30 %
Outlook-like mailbox-full ones, each to its delivery's signed return path) over the same number
of SMTP connections. `crm inbound` runs as its own process (the command an operator runs); each
message is read, its delivery found, a bounce row written, and for hard bounces the address
suppressed and the delivery marked, in one transaction committed before the 250.

    python bench/inbound.py            # --messages 2000 --connections 4
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime

import aiosmtplib
import asyncpg
from _common import ROOT, bench_database, plain_url
from aiosmtpd.controller import Controller

from crm.embedded import free_port
from crm.lib.verp import return_path
from tests import report_samples as samples

SECRET = "bench-secret-" + "x" * 32


class Accept:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


async def seed(url: str, count: int) -> list[tuple[uuid.UUID, str]]:
    """A list, a finished campaign and `count` people each with a sent delivery."""
    conn = await asyncpg.connect(plain_url(url))
    now = datetime.now(UTC)
    list_id, campaign_id = uuid.uuid4(), uuid.uuid4()
    people = [(uuid.uuid4(), uuid.uuid4(), f"bench{i:06d}@ville-exemple.fr") for i in range(count)]
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO mailing_list (id, name, slug, kind, is_public, double_opt_in, created_at, updated_at) "
                "VALUES ($1, 'Bench', $2, 'newsletter', false, false, $3, $3)",
                list_id,
                f"bench-{list_id.hex[:8]}",
                now,
            )
            await conn.execute(
                "INSERT INTO campaign (id, name, kind, status, subject, from_name, from_email, list_id, template, "
                "content, is_public, created_at, updated_at) VALUES ($1, 'Bench', 'newsletter', 'finished', 'Bench', "
                "'Bench', 'contact@example.org', $2, 'newsletter', '{}', false, $3, $3)",
                campaign_id,
                list_id,
                now,
            )
            await conn.copy_records_to_table(
                "person",
                records=[(p, "Bench", "Person", e, "fr", now, now) for p, _, e in people],
                columns=["id", "first_name", "last_name", "email", "language", "created_at", "updated_at"],
            )
            await conn.copy_records_to_table(
                "delivery",
                records=[(d, campaign_id, p, e, "sent", 1, now, now, now, now) for p, d, e in people],
                columns=[
                    "id",
                    "campaign_id",
                    "person_id",
                    "email",
                    "status",
                    "attempts",
                    "next_attempt_at",
                    "sent_at",
                    "created_at",
                    "updated_at",
                ],
            )
    finally:
        await conn.close()
    return [(d, e) for _, d, e in people]


def messages_for(deliveries: list[tuple[uuid.UUID, str]]) -> list[tuple[str, bytes]]:
    out = []
    for i, (delivery_id, email) in enumerate(deliveries):
        to = return_path(SECRET, "example.org", delivery_id)
        raw = samples.outlook_like_full(to, email) if i % 10 < 3 else samples.gmail_like_hard(to, email)
        out.append((to, raw))
    return out


async def send_all(port: int, messages: list[tuple[str, bytes]], connections: int) -> float:
    """Seconds to hand every message over, on `connections` SMTP connections at once."""
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for m in messages:
        queue.put_nowait(m)

    async def lane() -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60) as client:
            while not queue.empty():
                to, raw = queue.get_nowait()
                await client.sendmail("", [to], raw)

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(connections)))
    return time.perf_counter() - started


async def wait_for_port(port: int, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError("crm inbound stopped")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("crm inbound did not start")


async def main(count: int, connections: int) -> None:
    async with bench_database("inbound") as url:
        deliveries = await seed(url, count)
        messages = messages_for(deliveries)

        baseline = Controller(Accept(), hostname="127.0.0.1", port=free_port())
        baseline.start()
        try:
            plain = await send_all(baseline.port, messages, connections)
        finally:
            baseline.stop()

        port = free_port()
        env = {
            **os.environ,
            "CRM_DATABASE_URL": url,
            "CRM_SECURITY_SECRET_KEY": SECRET,
            "CRM_DELIVERABILITY_INBOUND_PORT": str(port),
            "CRM_ORGANISATION_SENDER_EMAIL": "contact@example.org",
            "CRM_LOG_LEVEL": "WARNING",
        }
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "crm.cli", "inbound", env=env, cwd=ROOT)
        try:
            await wait_for_port(port, process)
            crm = await send_all(port, messages, connections)
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)

        conn = await asyncpg.connect(plain_url(url))
        try:
            bounces = await conn.fetchval("SELECT count(*) FROM bounce")
            suppressed = await conn.fetchval("SELECT count(*) FROM suppression")
        finally:
            await conn.close()
    print(f"{count} bounces over {connections} SMTP connections")
    print(f"  baseline (plain aiosmtpd, accepts and drops): {count / plain:8.0f} messages/s  ({plain:.2f} s)")
    print(f"  crm inbound (parsed, recorded, suppressed):   {count / crm:8.0f} messages/s  ({crm:.2f} s)")
    print(
        f"  crm inbound takes {crm / plain:.1f}x the baseline's time  ({bounces} bounces recorded, {suppressed} suppressed)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.connections))
