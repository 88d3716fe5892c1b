"""A questionnaire's content (sections of questions) and the check of each answer against it.

The content is JSON kept on the questionnaire while it is built and frozen into a version when
published; both are read through `Content`. One rule per question type, here only."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from crm.lib.problems import ProblemError, field_error
from crm.lib.schemas import Schema

QuestionType = Literal[
    "short_text", "long_text", "single_choice", "multiple_choice", "scale", "number", "date", "yes_no", "file"
]
CHOICE_TYPES = frozenset({"single_choice", "multiple_choice"})
TEXT_TYPES = frozenset({"short_text", "long_text"})
YES, NO = "oui", "non"
SHORT_TEXT_MAX = 500
LONG_TEXT_MAX = 20_000
FILE_MAX_BYTES = 10 * 1024 * 1024  # the most a question may allow
KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")

Label = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Help = Annotated[str, StringConstraints(max_length=2000)]
Bound = Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]


class Condition(Schema):
    """Show this question only when an earlier one has this answer ("oui", or a choice)."""

    question: Annotated[str, StringConstraints(max_length=60)]
    equals: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Question(Schema):
    key: Annotated[str, StringConstraints(pattern=KEY.pattern, max_length=60)]
    label: Label
    type: QuestionType
    required: bool = False
    help: Help | None = None
    choices: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(default=[], max_length=50)
    min: Bound | None = None
    max: Bound | None = None
    # Files: the largest accepted, in bytes.
    max_bytes: int = Field(default=2 * 1024 * 1024, ge=1, le=FILE_MAX_BYTES)
    show_if: Condition | None = None

    @model_validator(mode="after")
    def _fits_its_type(self) -> Question:
        if self.type in CHOICE_TYPES and len(set(self.choices)) < 2:
            raise ValueError("a choice question needs at least two different choices")
        if self.type == "scale":
            self.min = 1 if self.min is None else self.min
            self.max = 5 if self.max is None else self.max
            if not 0 <= self.min < self.max <= 10:
                raise ValueError("a scale goes from 0 or more to at most 10")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        return self


class Section(Schema):
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    help: Help | None = None
    questions: list[Question] = Field(max_length=200)


class Content(Schema):
    sections: list[Section] = Field(default=[], max_length=50)

    @model_validator(mode="after")
    def _keys_and_conditions(self) -> Content:
        seen: dict[str, Question] = {}
        for question in self.questions():
            if question.key in seen:
                raise ValueError(f"question key {question.key!r} is used twice")
            if question.show_if is not None:
                earlier = seen.get(question.show_if.question)
                if earlier is None:
                    raise ValueError(f"{question.key}: show_if must name an earlier question")
                if earlier.type not in CHOICE_TYPES | {"yes_no"}:
                    raise ValueError(f"{question.key}: show_if must name a yes/no or choice question")
            seen[question.key] = question
        if len(seen) > 400:
            raise ValueError("at most 400 questions")
        return self

    def questions(self) -> list[Question]:
        return [q for section in self.sections for q in section.questions]

    def question(self, key: str) -> Question:
        for question in self.questions():
            if question.key == key:
                return question
        raise ProblemError(404, f"No question {key!r} in this questionnaire", errors=[field_error("key", "unknown")])

    def shown(self, question: Question, answers: dict[str, Any]) -> bool:
        """Whether the question shows given the answers (a hidden question is neither asked nor required)."""
        condition = question.show_if
        if condition is None:
            return True
        given = answers.get(condition.question)
        return given == condition.equals or (isinstance(given, list) and condition.equals in given)


def check_answer(question: Question, value: Any, field: str) -> Any:
    """The answer as stored, or a 422 naming `field`. None or "" clears the answer."""
    if value is None or value == "" or value == []:
        return None

    def bad(message: str) -> ProblemError:
        return ProblemError(422, f"Answer to {question.key!r}: {message}", errors=[field_error(field, message)])

    kind = question.type
    if kind in TEXT_TYPES:
        if not isinstance(value, str):
            raise bad("must be text")
        limit = SHORT_TEXT_MAX if kind == "short_text" else LONG_TEXT_MAX
        if len(value) > limit:
            raise bad(f"at most {limit} characters")
        if "\x00" in value:
            raise bad("contains a NUL character")
        return value
    if kind == "single_choice":
        if value not in question.choices:
            raise bad("is not one of the choices")
        return value
    if kind == "multiple_choice":
        values = value if isinstance(value, list) else [value]
        if any(v not in question.choices for v in values):
            raise bad("names something that is not one of the choices")
        return [c for c in question.choices if c in values]  # the questionnaire's order, once each
    if kind in ("scale", "number"):
        try:
            number = float(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or number != number or number in (float("inf"), float("-inf")):
            raise bad("must be a number")
        if kind == "scale" and not number.is_integer():
            raise bad("must be a whole number")
        if question.min is not None and number < question.min:
            raise bad(f"must be at least {question.min}")
        if question.max is not None and number > question.max:
            raise bad(f"must be at most {question.max}")
        return int(number) if number.is_integer() else number
    if kind == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise bad("must be a date (YYYY-MM-DD)") from exc
    if kind == "yes_no":
        if value in (True, "oui", "yes", "true"):
            return YES
        if value in (False, "non", "no", "false"):
            return NO
        raise bad("must be oui or non")
    raise bad("a file is sent as a file, not as a value")


def missing_required(content: Content, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The required questions shown and not answered, as field errors."""
    return [
        field_error(f"answers.{q.key}", "this question needs an answer")
        for q in content.questions()
        if q.required and content.shown(q, answers) and answers.get(q.key) in (None, "", [])
    ]


def shown_text(question: Question, value: Any) -> str:
    """An answer as a person reads it (the e-mailed copy, the CSV)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):  # a file
        return str(value.get("filename", ""))
    return str(value)
