"""Times as staff type and read them: Europe/Paris, stored in UTC.

One rule for every form of the API: a time sent without an offset is Paris time (summer and
winter time alike); with an offset it is taken as it is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator

PARIS = ZoneInfo("Europe/Paris")
PARIS_HELP = "ISO 8601; with an offset, or without one for Europe/Paris local time"


# Far enough for any event, and short of the calendar's ends: 9999-12-31T23:00-05:00 overflowed
# into an OverflowError (a 500) when turned into UTC.
FIRST_YEAR, LAST_YEAR = 1900, 2199


def to_utc(moment: datetime) -> datetime:
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"must be between the years {FIRST_YEAR} and {LAST_YEAR}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return moment.astimezone(UTC)


ParisDateTime = Annotated[datetime, AfterValidator(to_utc)]
