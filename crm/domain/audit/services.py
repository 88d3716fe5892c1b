from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import or_

from crm.db.models.audit import AuditEntry
from crm.lib.listing import ListQuery
from crm.lib.services import Service


class AuditService(Service[AuditEntry]):
    """Reads the audit log; entries are written by `crm.db.audit_listener`, never here."""

    async def search(
        self,
        query: ListQuery,
        sortable: frozenset[str],
        *,
        entity_type: str | None,
        entity_id: UUID | None,
        actor_id: UUID | None,
        action: str | None,
    ) -> tuple[Sequence[AuditEntry], int]:
        conditions: list[Any] = []
        if entity_type:
            conditions.append(AuditEntry.entity_type == entity_type)
        if entity_id:
            conditions.append(AuditEntry.entity_id == entity_id)
        if actor_id:
            conditions.append(AuditEntry.actor_id == actor_id)
        if action:
            conditions.append(AuditEntry.action == action)
        if query.q:
            # Few distinct short values: a plain ILIKE is enough, and '%'/'_' typed by staff stay literal.
            conditions.append(
                or_(
                    AuditEntry.entity_type.icontains(query.q, autoescape=True),
                    AuditEntry.action.icontains(query.q, autoescape=True),
                )
            )
        return await self.get_many_and_count(*query.filters(sortable, "-occurred_at"), *conditions)
