"""The audit log, for admins: who did what to which record, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from crm.domain.audit.services import AuditService
from crm.domain.auth.guards import requires_admin
from crm.domain.providers import provide_audit_service
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.schemas import Page, Schema

SORTABLE = frozenset({"occurred_at", "action", "entity_type"})


class AuditEntryRead(Schema):
    id: UUID
    occurred_at: datetime
    actor_type: str
    actor_id: UUID | None
    action: str
    entity_type: str
    entity_id: UUID | None
    changes: dict[str, Any] | None
    request_id: str | None


class AuditController(Controller):
    path = "/api/v1/audit-log"
    tags = ["Audit log"]
    guards = [requires_admin]
    dependencies = {
        "audit_service": provide_audit_service,
        "listing": list_query(SORTABLE),
    }

    @get(
        "/",
        operation_id="listAuditLog",
        summary="Read the audit log",
        description="Newest first by default; filter by record (entity_type, entity_id), by who acted "
        "(actor_id) or by action (create, update, delete, login, send...).",
    )
    async def list_audit(
        self,
        audit_service: NamedDependency[AuditService],
        listing: NamedDependency[ListQuery],
        entity_type: Annotated[str | None, Parameter(max_length=100, description="Table name, e.g. staff")] = None,
        entity_id: Annotated[UUID | None, Parameter(description="The record's id")] = None,
        actor_id: Annotated[UUID | None, Parameter(description="Who acted")] = None,
        action: Annotated[str | None, Parameter(max_length=40, description="create, update, delete, login...")] = None,
    ) -> Page[AuditEntryRead]:
        items, total = await audit_service.search(
            listing, SORTABLE, entity_type=entity_type, entity_id=entity_id, actor_id=actor_id, action=action
        )
        return Page[AuditEntryRead](**page([AuditEntryRead.model_validate(i) for i in items], total, listing))
