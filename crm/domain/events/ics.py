"""The calendar file of an event (RFC 5545), built with the `icalendar` package.

The UID is the event's, so a later update (higher SEQUENCE) or a cancellation (METHOD:CANCEL)
replaces the entry the person already has; times carry TZID=Europe/Paris with its VTIMEZONE."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from crm.domain.events.display import place
from crm.lib.timezones import PARIS


def event_uid(event: Any, domain: str) -> str:
    return f"event-{event.id}@{domain}"


def calendar(
    event: Any,
    *,
    domain: str,
    organiser_name: str,
    organiser_email: str,
    attendee_email: str | None = None,
    attendee_name: str = "",
    cancel: bool = False,
    sequence: int | None = None,
) -> bytes:
    """`sequence` overrides the event's SEQUENCE for one attendee (see crm/domain/events/notifications.py: a person who
    declines, then accepts again, needs each file newer than the one before)."""
    # Imported here: a worker that sends no event message never loads icalendar.
    from icalendar import Calendar, vCalAddress, vText
    from icalendar import Event as VEvent

    cal = Calendar()
    cal.add("prodid", f"-//{organiser_name}//CRM//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if cancel else "REQUEST")
    vevent = VEvent()
    vevent.add("uid", event_uid(event, domain))
    vevent.add("sequence", event.ics_sequence if sequence is None else sequence)
    vevent.add("dtstamp", datetime.now(UTC))
    vevent.add("dtstart", event.starts_at.astimezone(PARIS))
    vevent.add("dtend", event.ends_at.astimezone(PARIS))
    vevent.add("summary", event.title)
    description = event.description or ""
    if event.online_url:
        description = f"{description}\n\n{event.online_url}".strip()
    if description:
        vevent.add("description", description)
    vevent.add("location", place(event))
    if event.online_url:
        vevent.add("url", event.online_url)
    vevent.add("status", "CANCELLED" if cancel else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{organiser_email}")
    organizer.params["cn"] = vText(organiser_name)
    vevent.add("organizer", organizer)
    if attendee_email:
        attendee = vCalAddress(f"mailto:{attendee_email}")
        if attendee_name:
            attendee.params["cn"] = vText(attendee_name)
        attendee.params["partstat"] = vText("DECLINED" if cancel else "ACCEPTED")
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        vevent.add("attendee", attendee)
    cal.add_component(vevent)
    # The rules of the years around the event only: a short VTIMEZONE every client reads.
    start_year = event.starts_at.astimezone(PARIS).year
    cal.add_missing_timezones(first_date=date(start_year - 1, 1, 1), last_date=date(start_year + 2, 1, 1))
    return cal.to_ical()
