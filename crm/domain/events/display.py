"""How an event reads to people: dates in Europe/Paris, the place in one line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm.lib import frenchdates
from crm.lib.timezones import PARIS

KIND_LABELS = {
    "ceremony": "Cérémonie",
    "congress": "Congrès",
    "general_assembly": "Assemblée générale",
    "webinar": "Webinaire",
    "workshop": "Atelier",
}


def paris(moment: datetime | None) -> str | None:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if moment else None


def when(event: Any) -> str:
    """« vendredi 12 mars 2027, de 14 h 30 à 17 h (heure de Paris) », or both days when it spans several."""
    return frenchdates.span(event.starts_at, event.ends_at)


def seats(event: Any) -> str:
    """What an invitation says of the capacity: nothing when there is no limit."""
    if event.capacity is None:
        return ""
    if event.capacity == 1:
        return "Places limitées : une seule place."
    return f"Places limitées : {event.capacity} places, attribuées dans l’ordre des réponses."


def place(event: Any) -> str:
    parts = [p for p in (event.venue_name, event.address) if p]
    if parts:
        return ", ".join(" ".join(p.split()) for p in parts)
    return "En ligne" if event.online_url else "Lieu à préciser"


def summary(event: Any) -> dict[str, Any]:
    """The event as templates show it (compile-time for invitations, per message for the rest)."""
    return {
        "title": event.title,
        "kind_label": KIND_LABELS.get(str(event.kind), "Événement"),
        "description": event.description or "",
        "when": when(event),
        "place": place(event),
        "online_url": event.online_url or "",
        "deadline": frenchdates.moment(event.registration_deadline),
        "seats": seats(event),
        "guests_allowed": event.guests_allowed,
    }
