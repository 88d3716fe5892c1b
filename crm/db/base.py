"""The declarative base of every table: UUIDv7 ids (ordered, so indexes stay compact) and the
audit columns `created_at` / `updated_at` from advanced-alchemy, in UTC."""

from __future__ import annotations

from advanced_alchemy.base import UUIDv7AuditBase, orm_registry

Base = UUIDv7AuditBase
metadata = orm_registry.metadata


class Audited:
    """Marks a model whose every insert, update and delete is written to the audit log
    (see `crm.db.audit_listener`). `audit_exclude` names columns whose values are secrets:
    the log says that they changed, never what they hold."""

    __audit_exclude__: frozenset[str] = frozenset()
    # Columns whose changes alone are not worth an entry (bookkeeping the log records otherwise).
    __audit_ignore__: frozenset[str] = frozenset()
