"""Dates as French readers expect them in e-mails and pages: « samedi 3 février 2027, 9 h 30 ».

The day and month names are written here rather than taken from the machine's locale: a server
without the fr_FR locale (most containers) would otherwise print English names, or fail. Times are
Europe/Paris; the typographic rules are those of the Imprimerie nationale (« 1er », « 9 h 30 »,
« 14 h », no leading zero)."""

from __future__ import annotations

from datetime import date, datetime

from crm.lib.timezones import PARIS

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
PARIS_TIME = "(heure de Paris)"


def _paris(moment: datetime) -> datetime:
    return moment.astimezone(PARIS) if moment.tzinfo is not None else moment


def day(value: date | datetime, *, weekday: bool = True) -> str:
    """« samedi 3 février 2027 », « lundi 1er mars 2027 »; `weekday=False`: « 3 février 2027 »."""
    if isinstance(value, datetime):
        value = _paris(value).date()
    number = "1er" if value.day == 1 else str(value.day)
    text = f"{number} {MONTHS[value.month - 1]} {value.year}"
    return f"{DAYS[value.weekday()]} {text}" if weekday else text


def hour(moment: datetime) -> str:
    """« 9 h 30 », « 14 h », « 0 h 05 »."""
    moment = _paris(moment)
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"


def moment(value: datetime | None) -> str:
    """« samedi 3 février 2027, 9 h 30 » (Paris time); empty for no date."""
    if value is None:
        return ""
    return f"{day(value)}, {hour(value)}"


def span(start: datetime, end: datetime) -> str:
    """An event's time: « samedi 3 février 2027, de 9 h 30 à 12 h (heure de Paris) », or
    « du samedi 3 février 2027, 9 h 30 au dimanche 4 février 2027, 17 h (heure de Paris) »."""
    start, end = _paris(start), _paris(end)
    if start.date() == end.date():
        return f"{day(start)}, de {hour(start)} à {hour(end)} {PARIS_TIME}"
    return f"du {moment(start)} au {moment(end)} {PARIS_TIME}"
