"""Writes an audit entry for every insert, update and delete of an `Audited` model, in the same
transaction as the change: one rule in one place, whichever service, job or command made it."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from uuid_utils.compat import uuid7

from crm.db.base import Audited
from crm.db.models.audit import AuditEntry
from crm.lib.actor import current_actor

SKIPPED_COLUMNS = frozenset({"created_at", "updated_at", "sa_orm_sentinel"})
REDACTED = "[redacted]"


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date | UUID | Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _column_changes(obj: Audited, *, new: bool) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in SKIPPED_COLUMNS:
            continue
        history = state.attrs[key].history
        secret = key in obj.__audit_exclude__
        if new:
            value = getattr(obj, key)
            if value is not None:
                changes[key] = REDACTED if secret else _plain(value)
        elif history.has_changes():
            old = history.deleted[0] if history.deleted else None
            now = history.added[0] if history.added else None
            if old != now:
                changes[key] = {"changed": True} if secret else {"old": _plain(old), "new": _plain(now)}
    return changes


def _entry(obj: Audited, action: str, changes: dict[str, Any] | None) -> AuditEntry:
    actor = current_actor.get()
    return AuditEntry(
        actor_type=actor.kind,
        actor_id=actor.id,
        action=action,
        entity_type=type(obj).__tablename__,  # type: ignore[attr-defined]
        entity_id=getattr(obj, "id", None),
        changes=changes,
        request_id=actor.request_id,
    )


@event.listens_for(Session, "before_flush")
def _audit_before_flush(session: Session, _flush_context: Any, _instances: Any) -> None:
    entries: list[AuditEntry] = []
    for obj in session.new:
        if isinstance(obj, Audited):
            if getattr(obj, "id", None) is None:
                # The id is normally given at flush; the entry needs it now.
                obj.id = uuid7()  # type: ignore[attr-defined]
            entries.append(_entry(obj, "create", _column_changes(obj, new=True)))
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            changes = {k: v for k, v in _column_changes(obj, new=False).items() if k not in obj.__audit_ignore__}
            if changes:
                entries.append(_entry(obj, "update", changes))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            # What was deleted, so that the log still says which record it was.
            entries.append(_entry(obj, "delete", _column_changes(obj, new=True)))
    session.add_all(entries)


def record(session: Any, action: str, entity_type: str, entity_id: UUID | None, **details: Any) -> None:
    """An audit entry for what is not a row change: a login, an export, a send."""
    actor = current_actor.get()
    session.add(
        AuditEntry(
            actor_type=actor.kind,
            actor_id=actor.id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            changes=_plain(details) or None,
            request_id=actor.request_id,
        )
    )
