"""How an event reads to people: dates in Europe/Paris, the place in one line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    """`le 12/03/2027 de 14:30 à 17:00`, or both dates when it spans several days."""
    start, end = event.starts_at.astimezone(PARIS), event.ends_at.astimezone(PARIS)
    if start.date() == end.date():
        return f"le {start:%d/%m/%Y} de {start:%H:%M} à {end:%H:%M} (heure de Paris)"
    return f"du {start:%d/%m/%Y} {start:%H:%M} au {end:%d/%m/%Y} {end:%H:%M} (heure de Paris)"


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
        "deadline": paris(event.registration_deadline) or "",
        "guests_allowed": event.guests_allowed,
    }
