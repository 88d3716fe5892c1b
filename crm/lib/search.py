"""Accent-, case- and hyphen-forgiving search, done by PostgreSQL on trigram-indexed columns.

The `search_text` columns are generated with `crm_search_text()` (migration 0002); what staff type
goes through the same function, word by word, so "saint etienne" finds "Saint-Étienne" and "ajac"
finds Ajaccio. Each word must appear (AND); results rank by trigram similarity."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import InstrumentedAttribute

from crm.db.models.organisation import Organisation
from crm.db.models.person import Person

MAX_WORDS = 8


def words(q: str) -> list[str]:
    return [w for w in q.replace("'", " ").replace("’", " ").replace("-", " ").split() if w][:MAX_WORDS]


def matches(column: InstrumentedAttribute[str], q: str) -> ColumnElement[bool]:
    # No LIKE escaping needed (nor possible on an expression): crm_search_text() keeps only
    # a-z, 0-9, '@' and '.', so no '%' or '_' reaches the pattern.
    return and_(*(column.contains(func.crm_search_text(word)) for word in words(q)))


def ranking(column: InstrumentedAttribute[str], q: str) -> Any:
    return func.similarity(column, func.crm_search_text(q)).desc()


def organisation_matches(column: Any, q: str) -> ColumnElement[bool]:
    """`column` (an organisation id) is that of an organisation whose name, INSEE code or SIREN
    matches `q`: lets any list of records about organisations be searched like organisations."""
    return column.in_(select(Organisation.id).where(matches(Organisation.search_text, q)))


def person_matches(column: Any, q: str) -> ColumnElement[bool]:
    """`column` (a person id) is that of a person whose name or e-mail matches `q`."""
    return column.in_(select(Person.id).where(matches(Person.search_text, q)))


def text_matches(column: Any, q: str) -> ColumnElement[bool]:
    """A plain text column (not indexed for search) contains every word of `q`, accents, case
    and hyphens ignored; for short lists such as fee bands."""
    readable = func.crm_search_text(func.coalesce(column, ""))
    return and_(*(readable.contains(func.crm_search_text(word)) for word in words(q)))
