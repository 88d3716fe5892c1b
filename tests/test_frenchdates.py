"""Dates in e-mails and pages read as French readers write them, whatever the machine's locale."""

from __future__ import annotations

import locale
from datetime import UTC, date, datetime

from crm.lib import frenchdates


def test_a_moment_reads_in_french_in_paris_time() -> None:
    # 08:30 UTC in winter is 9 h 30 in Paris.
    assert frenchdates.moment(datetime(2027, 2, 6, 8, 30, tzinfo=UTC)) == "samedi 6 février 2027, 9 h 30"
    assert frenchdates.moment(datetime(2027, 3, 1, 13, 0, tzinfo=UTC)) == "lundi 1er mars 2027, 14 h"
    # Summer time: 22:05 UTC is 0 h 05 the next day.
    assert frenchdates.moment(datetime(2027, 8, 14, 22, 5, tzinfo=UTC)) == "dimanche 15 août 2027, 0 h 05"
    assert frenchdates.moment(None) == ""


def test_a_day_without_its_weekday_and_a_span() -> None:
    assert frenchdates.day(date(2025, 11, 3), weekday=False) == "3 novembre 2025"
    start, end = datetime(2027, 12, 31, 13, 30, tzinfo=UTC), datetime(2027, 12, 31, 16, 0, tzinfo=UTC)
    assert frenchdates.span(start, end) == "vendredi 31 décembre 2027, de 14 h 30 à 17 h (heure de Paris)"
    two_days = frenchdates.span(start, datetime(2028, 1, 1, 16, 0, tzinfo=UTC))
    assert two_days == "du vendredi 31 décembre 2027, 14 h 30 au samedi 1er janvier 2028, 17 h (heure de Paris)"


def test_the_machine_locale_changes_nothing() -> None:
    before = locale.setlocale(locale.LC_TIME)
    try:
        locale.setlocale(locale.LC_TIME, "C")
        assert frenchdates.day(date(2027, 2, 6)) == "samedi 6 février 2027"
    finally:
        locale.setlocale(locale.LC_TIME, before)
