"""Helpers of the event tests: an event through the API, invitees, and the calendar file of a
received message read with a real iCalendar parser."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import icalendar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.smtp import Received

PARIS = ZoneInfo("Europe/Paris")


def paris_noon(days_ahead: int) -> datetime:
    """Noon, Paris time, `days_ahead` calendar days from today in Paris."""
    day = datetime.now(PARIS).date() + timedelta(days=days_ahead)
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=PARIS)


async def make_event(client: AsyncTestClient[Any], **extra: Any) -> dict[str, Any]:
    start = paris_noon(30)
    body = {
        "kind": "ceremony",
        "title": "Cérémonie des labels Villes Internet",
        "description": "Remise des @ aux villes labellisées.",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        "venue_name": "Hôtel de ville de Martigues",
        "address": "Avenue Louis Sammut, 13500 Martigues",
        "capacity": 100,
        **extra,
    }
    response = await client.post("/api/v1/events", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def invite(engine: AsyncEngine, event_id: str | UUID, people: list[tuple[UUID, str]]) -> list[UUID]:
    """Invitations as an invitation campaign would have left them."""
    ids = [uuid.uuid4() for _ in people]
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO invitation (id, event_id, person_id, status, with_guest, created_at, updated_at) "
                "VALUES (:id, :event_id, :person_id, 'invited', false, :now, :now)"
            ),
            [
                {"id": i, "event_id": event_id, "person_id": pid, "now": now}
                for i, (pid, _) in zip(ids, people, strict=True)
            ],
        )
    return ids


async def invitation_status(engine: AsyncEngine, event_id: str | UUID) -> dict[UUID, str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT person_id, status FROM invitation WHERE event_id = :id"), {"id": event_id}
        )
        return {pid: status for pid, status in rows}


def calendar_of(message: Received) -> icalendar.Calendar:
    parts = [p for p in message.message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in message.message.walk()]
    return icalendar.Calendar.from_ical(parts[0].get_payload(decode=True))


def vevent_of(cal: icalendar.Calendar) -> Any:
    [vevent] = cal.walk("VEVENT")
    return vevent
