"""The signed answer links of an invitation: one token per (event, person), valid long enough to
answer an invitation sent months ahead. The page reads it; GET never changes anything."""

from __future__ import annotations

from uuid import UUID

from crm.config import Settings
from crm.lib.tokens import make_token

RSVP = "rsvp"


def rsvp_max_age(settings: Settings) -> int:
    return settings.events.rsvp_link_days * 24 * 3600


def rsvp_token(
    settings: Settings, event_id: UUID | str, person_id: UUID | str, *, issued_at: float | None = None
) -> str:
    return make_token(
        settings.security.secret_key.get_secret_value(),
        RSVP,
        {"event_id": str(event_id), "person_id": str(person_id)},
        issued_at=issued_at,
    )


def rsvp_url(settings: Settings, event_id: UUID | str, person_id: UUID | str, answer: str | None = None) -> str:
    url = f"{settings.public_url}/rsvp/{rsvp_token(settings, event_id, person_id)}"
    return f"{url}?answer={answer}" if answer else url
