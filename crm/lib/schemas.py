"""Shared shapes of the JSON API: the page of a collection and the base of every schema."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict

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
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return checked.normalized.lower()


Email = Annotated[str, AfterValidator(normalise_email)]
