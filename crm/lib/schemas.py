"""Shared shapes of the JSON API: the page of a collection, the base of every schema, and the bounded
types every schema uses (single-line text for what reaches a mail header, links, dates)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, UrlConstraints
from pydantic_core import PydanticCustomError

T = TypeVar("T")


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid", str_strip_whitespace=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def normalise_email(value: str) -> str:
    """One spelling per address, checked for syntax (not deliverability: a typo'd domain is the
    sender's to notice). Lower-cased whole: real mailboxes ignore case, and uniqueness needs one form."""
    # Imported here: the worker, which imports this module for its schemas, checks an address
    # only when one bounces.
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        # A type of its own, so a client can word it (the message stays email-validator's).
        raise PydanticCustomError("email", "{reason}", {"reason": str(exc)}) from exc
    return checked.normalized.lower()


# RFC 5321 caps a path at 256 octets; 320 is the usual column width. Checked before parsing.
Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(normalise_email)]

# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators: none has a
# place in a name or a subject, and CR or LF in a value that reaches a mail header would add
# headers of the sender's choosing (header injection).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
SINGLE_LINE_MESSAGE = "must be one line of text, without line breaks or control characters"


def refuse_control_characters(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise PydanticCustomError("single_line", SINGLE_LINE_MESSAGE)
    return value


SingleLine = Annotated[str, AfterValidator(refuse_control_characters)]
"""Text that may reach a mail header (names, subjects, list names, titles): one line, no control
characters. Give it a `Field(max_length=...)` where it is used."""

# Browsers and servers agree on about 2 000 characters; pydantic's AnyHttpUrl sets no limit.
HttpLink = Annotated[AnyHttpUrl, UrlConstraints(max_length=2000)]

# Free text (notes, descriptions, commitments): long enough for any note, short of a megabyte.
NOTES_MAX = 10_000
# Bounds of the whole numbers the database holds in an `integer` column.
INT32_MAX = 2**31 - 1
# Years a filter may ask for: any four-digit year (a record's own year is narrower, see its schema).
MIN_YEAR = 1000
MAX_YEAR = 9999

# Dates a person may type. Wide enough for any record here, and narrow enough that date arithmetic
# (notice periods, renewals, reminders) stays within what Python and PostgreSQL hold: 9999-12-01
# plus a renewal, or 0001-01-03 minus a notice period, raised OverflowError (a 500).
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)
Day = Annotated[date, Field(ge=MIN_DATE, le=MAX_DATE)]
