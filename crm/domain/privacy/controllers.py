"""Personal-data rights for staff: a person's access export (JSON and a readable summary), their
erasure, and the retention rule's purge (listed first, confirmed by staff, then run)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from crm.config import Settings
from crm.domain.auth.guards import requires_admin
from crm.domain.privacy import services
from crm.lib.actor import current_actor
from crm.lib.schemas import Schema


def _settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


class ErasureRequest(Schema):
    reason: str = Field(
        default="request",
        max_length=20,
        pattern="^(request)$",
        description="`request`: the person asked (RGPD art. 17)",
    )


class ErasureRead(Schema):
    person_id: UUID
    kept_mandates: int = Field(description="Board seats kept, as 'a member of the board for <organisation>'")
    deleted_positions: int
    deleted_subscriptions: int
    anonymised_deliveries: int
    scrubbed_rows: int = Field(description="Rows elsewhere whose text held the erased values")


class RetentionCandidate(Schema):
    person_id: UUID
    first_name: str
    last_name: str
    last_contact: datetime


class RetentionList(Schema):
    items: list[RetentionCandidate]
    retention_days: int
    limit: int
    offset: int


class PurgeRequest(Schema):
    person_ids: list[UUID] = Field(min_length=1, max_length=1000, description="The people staff confirmed")


class PurgeRead(Schema):
    erased: list[UUID]
    skipped: list[UUID] = Field(description="Confirmed but no longer due (contacted since the list was read)")
    audit_entries_deleted: int


class PersonRightsController(Controller):
    path = "/api/v1/people/{person_id:uuid}"
    tags = ["Personal data"]
    guards = [requires_admin]

    @get(
        "/access-export",
        operation_id="exportPersonData",
        summary="Everything held about a person (JSON)",
        description="Profile, positions, mandates, subscriptions with their consent proofs, deliveries, "
        "bounces, event answers, tags, suppression and audit entries, as one JSON file. Audited.",
    )
    async def access_export(
        self, person_id: FromPath[UUID], db_session: NamedDependency[AsyncSession]
    ) -> Response[dict[str, Any]]:
        document = await services.access_export(db_session, person_id)
        return Response(
            document,
            headers={"Content-Disposition": f'attachment; filename="donnees-{person_id}.json"'},
        )

    @get(
        "/access-export/summary",
        operation_id="exportPersonDataSummary",
        summary="Everything held about a person (readable summary)",
        description="The same export as plain text in French, to send to the person. Audited.",
        media_type=MediaType.TEXT,
    )
    async def access_summary(
        self, person_id: FromPath[UUID], db_session: NamedDependency[AsyncSession]
    ) -> Response[str]:
        document = await services.access_export(db_session, person_id)
        return Response(
            services.summary_text(document),
            media_type=MediaType.TEXT,
            headers={"Content-Disposition": f'attachment; filename="donnees-{person_id}.txt"'},
        )

    @post(
        "/erasure",
        operation_id="erasePerson",
        summary="Erase a person (right to erasure)",
        description="Removes the person's data; keeps board seats as 'a member of the board for <organisation>' "
        "and campaign figures without the address; the address stays on the suppression list as a hash, so "
        "that no import brings it back. 409 when already erased.",
        status_code=200,
    )
    async def erase(
        self,
        person_id: FromPath[UUID],
        data: JSONBody[ErasureRequest],
        db_session: NamedDependency[AsyncSession],
    ) -> ErasureRead:
        outcome = await services.erase(db_session, person_id, data.reason, current_actor.get().id)
        return ErasureRead.model_validate(outcome, from_attributes=True)


class RetentionController(Controller):
    path = "/api/v1/retention"
    tags = ["Personal data"]
    guards = [requires_admin]

    @get(
        "/candidates",
        operation_id="listRetentionCandidates",
        summary="Who the retention rule would purge",
        description="Prospects (no current position, no running mandate, no subscription) without contact "
        "for CRM_PRIVACY_PROSPECT_RETENTION_DAYS (three years by default, after the CNIL), oldest first.",
    )
    async def candidates(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        offset: Annotated[int, Parameter(ge=0, le=1_000_000)] = 0,
    ) -> RetentionList:
        settings = _settings(request)
        found = await services.retention_candidates(db_session, settings, limit, offset)
        return RetentionList(
            items=[RetentionCandidate.model_validate(c, from_attributes=True) for c in found],
            retention_days=settings.privacy.prospect_retention_days,
            limit=limit,
            offset=offset,
        )

    @post(
        "/purge",
        operation_id="purgeRetention",
        summary="Erase the confirmed people the retention rule lists",
        description="Erases each person sent who is still due (others are named in `skipped`), and deletes "
        "audit entries older than CRM_PRIVACY_AUDIT_RETENTION_DAYS.",
        status_code=200,
    )
    async def purge(
        self, request: Request[Any, Any, Any], data: JSONBody[PurgeRequest], db_session: NamedDependency[AsyncSession]
    ) -> PurgeRead:
        outcome = await services.purge(db_session, _settings(request), data.person_ids, current_actor.get().id)
        return PurgeRead.model_validate(outcome, from_attributes=True)
