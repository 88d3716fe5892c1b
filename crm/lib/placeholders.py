"""What a staff-written template may hold: `{{ field }}` placeholders, nothing that computes.

Jinja's sandbox stops a template from reaching Python's internals, not from burning the CPU or the
memory (`{{ 9**9**9 }}`, `{{ 'x' * 10**9 }}`, loops over ranges): Jinja even folds constant
expressions while it compiles a template, so such a text stalls the process before any render. So
the parsed tree is checked before Jinja compiles anything: plain text and outputs of a name, of one
attribute of a name (`association.name`), or of a name with `default('text')` (`preheader`). With
nothing to compute, a render costs what its text and values weigh; `bounded_render` still caps
both the size and the time, so that no value can make it run away either."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

# A campaign message is at most a few hundred kilobytes; a render past these is a fault.
MAX_RENDER_CHARS = 10_000_000
MAX_RENDER_SECONDS = 2.0


class PlaceholderError(ValueError):
    """A template holds more than placeholders (the message names the first offence)."""


def _refuse(node: nodes.Node) -> PlaceholderError:
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        found = f"{node.node.name}.{node.attr}"
    elif isinstance(node, nodes.Name):
        found = node.name
    else:
        found = type(node).__name__.lower()
    return PlaceholderError(f"only {{{{ field }}}} placeholders are allowed (line {node.lineno}: {found})")


def _names(node: nodes.Node) -> Iterator[str]:
    """The names a placeholder uses; raises PlaceholderError for anything else."""
    if isinstance(node, nodes.Name) and node.ctx == "load":
        yield node.name
        return
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) and node.ctx == "load":
        yield node.node.name
        return
    is_default = (
        isinstance(node, nodes.Filter)
        and node.name == "default"
        and isinstance(node.node, nodes.Name)
        and all(isinstance(a, nodes.Const) and isinstance(a.value, str) for a in node.args)
        and not node.kwargs
        and node.dyn_args is None
        and node.dyn_kwargs is None
    )
    if not is_default:
        raise _refuse(node)
    yield node.node.name  # type: ignore[attr-defined]


def placeholder_names(tree: nodes.Template, *, plain_names_only: bool = False) -> set[str]:
    """The names a parsed template fills; PlaceholderError when it holds a statement or an
    expression. `plain_names_only`: what staff may write themselves, `{{ field }}` and no more."""
    used: set[str] = set()
    for statement in tree.body:
        if not isinstance(statement, nodes.Output):
            raise _refuse(statement)
        for child in statement.nodes:
            if isinstance(child, nodes.TemplateData):
                continue
            if plain_names_only and not isinstance(child, nodes.Name):
                raise _refuse(child)
            used.update(_names(child))
    return used


class PlaceholderEnvironment(SandboxedEnvironment):
    """A sandbox that refuses, before compiling, any template holding more than placeholders."""

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        try:
            placeholder_names(tree)
        except PlaceholderError as exc:
            raise jinja2.TemplateSyntaxError(str(exc), lineno=1, name=name, filename=filename) from exc
        return tree


def bounded_render(template: jinja2.Template, context: dict[str, object]) -> str:
    """Renders piece by piece, stopping past MAX_RENDER_CHARS or MAX_RENDER_SECONDS. Any failure
    (an undefined attribute, a value that does not print) is a ValueError saying what went wrong."""
    started = time.monotonic()
    size = 0
    parts: list[str] = []
    try:
        pieces: Iterable[str] = template.generate(context)
        for piece in pieces:
            size += len(piece)
            if size > MAX_RENDER_CHARS:
                raise PlaceholderError(f"the message would exceed {MAX_RENDER_CHARS} characters")
            if time.monotonic() - started > MAX_RENDER_SECONDS:
                raise PlaceholderError(f"the message took more than {MAX_RENDER_SECONDS:g} s to compose")
            parts.append(piece)
    except PlaceholderError:
        raise
    except Exception as exc:  # a template error is the template's fault, never the caller's crash
        raise PlaceholderError(f"{type(exc).__name__}: {exc}") from exc
    return "".join(parts)
