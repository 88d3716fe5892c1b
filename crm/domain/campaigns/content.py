"""Campaign content: the blocks staff compose, checked, then compiled once per campaign.

Two stages of Jinja, with different delimiters so they never meet: at compile time `[[ ]]` and
`[% %]` place the blocks into the MJML template (escaped for XML); MJML and the CSS inliner run;
what remains are the per-recipient placeholders `{{ first_name }}`..., rendered by the worker in
Jinja's sandbox."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from pydantic import AnyHttpUrl, Field, model_validator

from crm.lib import frenchdates
from crm.lib.mail import TEMPLATES_DIR, CompiledTemplate, TemplateError, compile_mjml
from crm.lib.placeholders import PlaceholderError, placeholder_names
from crm.lib.problems import ProblemError, field_error
from crm.lib.schemas import Schema

CAMPAIGN_TEMPLATES = ("newsletter", "announcement", "invitation")
# What a text may greet a recipient with; anything else is refused when the campaign is saved.
RECIPIENT_FIELDS = frozenset({"first_name", "last_name", "full_name", "organisation"})
PUBLICATION_KINDS = {
    "report": "Rapport",
    "survey_results": "Résultats d'enquête",
    "guide": "Guide",
    "motion": "Motion",
    "other": "Publication",
}


class HeadingBlock(Schema):
    type: Literal["heading"]
    text: str = Field(min_length=1, max_length=300)


class TextBlock(Schema):
    type: Literal["text"]
    text: str = Field(
        min_length=1,
        max_length=20000,
        description="Paragraphs separated by blank lines; "
        "may greet with {{ first_name }}, {{ last_name }}, {{ full_name }}, {{ organisation }}",
    )


class ButtonBlock(Schema):
    type: Literal["button"]
    label: str = Field(min_length=1, max_length=100)
    url: AnyHttpUrl


class ImageBlock(Schema):
    type: Literal["image"]
    url: AnyHttpUrl
    alt: str = Field(default="", max_length=300)


class DividerBlock(Schema):
    type: Literal["divider"]


Block = Annotated[HeadingBlock | TextBlock | ButtonBlock | ImageBlock | DividerBlock, Field(discriminator="type")]


# The blocks of one message together: mail clients clip a message past ~100 KB anyway, and
# compiling it (MJML, CSS, Jinja) holds the interpreter for about 0.7 s per 1 MB of text.
MAX_CONTENT_CHARS = 200_000


class Content(Schema):
    blocks: list[Block] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _bounded(self) -> Content:
        total = sum(len(str(value)) for block in self.blocks for _attr, value in block if isinstance(value, str))
        if total > MAX_CONTENT_CHARS:
            raise ValueError(f"the blocks hold {total} characters; at most {MAX_CONTENT_CHARS} in one message")
        return self


_placeholders_env = SandboxedEnvironment()
# Compile-time stage: XML-escaped, its own delimiters.
_compile_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    block_start_string="[%",
    block_end_string="%]",
    variable_start_string="[[",
    variable_end_string="]]",
    comment_start_string="[#",
    comment_end_string="#]",
    trim_blocks=True,
    lstrip_blocks=True,
)
_PARAGRAPHS = re.compile(r"\n\s*\n")


def _placeholder_errors(value: str, where: str) -> list[dict[str, str]]:
    """What is wrong with the placeholders of one field: staff may greet with `{{ field }}` and
    nothing else (no statement, no expression: see crm.lib.placeholders)."""
    if "{" not in value:
        return []
    try:
        tree = _placeholders_env.parse(value)
    except jinja2.TemplateSyntaxError as exc:
        return [field_error(where, f"broken placeholder: {exc.message}")]
    if "{%" in value:
        return [field_error(where, "only {{ field }} placeholders are allowed")]
    try:
        used = placeholder_names(tree, plain_names_only=True)
    except PlaceholderError as exc:
        return [field_error(where, str(exc))]
    unknown = sorted(used - RECIPIENT_FIELDS)
    if unknown:
        return [
            field_error(
                where, f"unknown placeholder {', '.join(unknown)}; use one of {', '.join(sorted(RECIPIENT_FIELDS))}"
            )
        ]
    return []


def check_placeholders(
    content: Content | None, field: str = "content", *, subject: str | None = None, preheader: str | None = None
) -> None:
    """Refuses a campaign whose placeholders are broken or unknown, naming the field: the subject,
    the preheader and every text, label, link and image description of the blocks."""
    errors = []
    for name, value in (("subject", subject), ("preheader", preheader)):
        if value:
            errors += _placeholder_errors(value, name)
    for i, block in enumerate(content.blocks if content is not None else []):
        for attr, value in block:
            if isinstance(value, str | AnyHttpUrl):
                errors += _placeholder_errors(str(value), f"{field}.blocks[{i}].{attr}")
    if errors:
        raise ProblemError(422, "The content has placeholders that cannot be filled", errors=errors)


def _check_record(record: dict[str, Any] | None, field: str) -> None:
    """The event or publication shown in a message is written by staff too, elsewhere: its texts
    go through the same template engine, so they pass the same check."""
    errors = []
    for key, value in (record or {}).items():
        if isinstance(value, str):
            errors += _placeholder_errors(value, f"{field}.{key}")
    if errors:
        raise ProblemError(422, f"The {field} has placeholders that cannot be filled", errors=errors)


def _block_context(block: dict[str, Any]) -> dict[str, Any]:
    if block["type"] == "text":
        return {**block, "paragraphs": [p.strip() for p in _PARAGRAPHS.split(block["text"].strip()) if p.strip()]}
    return block


def compile_campaign(
    template: str,
    content: dict[str, Any],
    *,
    subject: str,
    publication: dict[str, Any] | None = None,
    issued_on: date | None = None,
    event: dict[str, Any] | None = None,
) -> CompiledTemplate:
    if template not in CAMPAIGN_TEMPLATES:
        raise ProblemError(
            422,
            f"No campaign template {template!r}",
            errors=[field_error("template", f"choose one of {', '.join(CAMPAIGN_TEMPLATES)}")],
        )
    _check_record(publication, "publication")
    _check_record(event, "event")
    if publication is not None:
        publication = {**publication, "kind_label": PUBLICATION_KINDS.get(str(publication.get("kind")), "Publication")}
    mjml = _compile_env.get_template(f"campaigns/{template}.mjml").render(
        blocks=[_block_context(b) for b in content.get("blocks", [])],
        subject=subject,
        publication=publication,
        event=event,
        issued_on=frenchdates.day(issued_on or date.today(), weekday=False),
    )
    try:
        return compile_mjml(mjml, name=f"campaigns/{template}", sandboxed=True)
    except TemplateError as exc:
        raise ProblemError(422, str(exc), errors=[field_error("content", str(exc))]) from exc
