"""Who is acting, for the audit log: set once where a request, a job or a command starts, read
wherever a change is flushed. A context variable, so it follows each request's task."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # staff, partner, contact, system
    id: UUID | None = None
    request_id: str | None = None


SYSTEM = Actor(kind="system")

current_actor: ContextVar[Actor] = ContextVar("current_actor", default=SYSTEM)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = current_actor.set(actor)
    try:
        yield actor
    finally:
        current_actor.reset(token)
