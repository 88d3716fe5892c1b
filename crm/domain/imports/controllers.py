"""CSV imports (editors: dry run, then apply) and CSV exports of organisations and people (viewers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, Parameter
from litestar.response import Stream

from crm.db.models.imports import ImportBatch
from crm.db.models.organisation import MembershipStatus, OrganisationKind
from crm.db.models.person import PositionKind
from crm.domain.auth.guards import requires_editor, requires_viewer
from crm.domain.imports.csvfiles import ALIASES, COLUMNS, ORGANISATIONS, PEOPLE
from crm.domain.imports.schemas import ImportRead, ImportSummary, ImportUpload
from crm.domain.imports.services import ImportService, export_chunks, provide_import_service
from crm.lib.listing import ListQuery, page, provide_list_query
from crm.lib.schemas import Page

SORTABLE = frozenset({"created_at", "applied_at", "filename", "kind", "status"})


def _accepted_columns() -> str:
    """The accepted header names, for the API documentation: generated, so it cannot go stale."""
    parts = []
    for kind in (ORGANISATIONS, PEOPLE):
        names = "; ".join(f"`{c}` ({', '.join(ALIASES[kind].get(c, ()))})" for c in COLUMNS[kind])
        parts.append(f"{kind.capitalize()} columns, with the other names accepted: {names}.")
    return " ".join(parts)


CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def _read(batch: ImportBatch) -> ImportRead:
    return ImportRead(
        id=batch.id,
        kind=batch.kind,
        filename=batch.filename,
        status=batch.status,
        encoding=batch.encoding,
        delimiter=batch.delimiter,
        row_count=len(batch.rows),
        report=batch.report,  # type: ignore[arg-type]
        created_at=batch.created_at,
        applied_at=batch.applied_at,
    )


class ImportController(Controller):
    path = "/api/v1/imports"
    tags = ["Imports and exports"]
    guards = [requires_editor]
    dependencies = {
        "import_service": provide_import_service,
        "listing": Provide(provide_list_query, sync_to_thread=False),
    }

    @post(
        "/",
        operation_id="checkImport",
        summary="Check a CSV file (dry run)",
        description="Upload a CSV of organisations or people (multipart form: `file`, and `kind` = organisations "
        "or people). Nothing is written: the answer reports every bad row (line in the file, column, why) and "
        "what an apply would create, update or leave unchanged. Accepts UTF-8 with or without BOM and "
        "Windows-1252, semicolons or commas, and French header names (Code INSEE, Courriel, Prénom...). "
        "Header names are compared without case, accents, spaces or punctuation. Dates: 2024-01-31 or "
        "31/01/2024; yes/no: oui/non; tags separated by |. An empty cell leaves the stored value as it is; "
        "tags are added, never removed. Organisations are matched on INSEE code or SIREN (else on kind and "
        "name), people on e-mail; a person with an organisation code and a position title gets that position "
        "there unless they hold it already. " + _accepted_columns(),
    )
    async def check_import(
        self,
        data: Annotated[ImportUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        import_service: NamedDependency[ImportService],
    ) -> ImportRead:
        content = await data.file.read()
        batch = await import_service.check(str(data.kind).strip().lower(), data.file.filename, content)
        return _read(batch)

    @get(
        "/",
        operation_id="listImports",
        summary="List imports",
        description="Checked, applied and failed imports, latest first.",
    )
    async def list_imports(
        self,
        import_service: NamedDependency[ImportService],
        listing: NamedDependency[ListQuery],
        kind: Annotated[str | None, Parameter(description="organisations or people")] = None,
    ) -> Page[ImportSummary]:
        items, total = await import_service.list_batches(listing, SORTABLE, kind)
        summaries = [
            ImportSummary(
                id=b.id,
                kind=b.kind,
                filename=b.filename,
                status=b.status,
                row_count=len(b.rows),
                error_count=int(b.report.get("error_count", 0)),
                created_at=b.created_at,
                applied_at=b.applied_at,
            )
            for b in items
        ]
        return Page[ImportSummary](**page(summaries, total, listing))

    @get(
        "/{import_id:uuid}",
        operation_id="getImport",
        summary="One import and its report",
        description="The status (checked, applied, failed) and the report of the last check or apply.",
    )
    async def get_import(self, import_service: NamedDependency[ImportService], import_id: FromPath[UUID]) -> ImportRead:
        return _read(await import_service.get(import_id))

    @post(
        "/{import_id:uuid}/apply",
        operation_id="applyImport",
        summary="Apply a checked import",
        description="Writes every row of a checked import in one transaction, all or nothing: if any row is "
        "bad now, nothing is written and the answer is 422 with the report (the import is marked failed). "
        "An applied import cannot be applied again (409).",
        status_code=200,
    )
    async def apply_import(
        self, import_service: NamedDependency[ImportService], import_id: FromPath[UUID]
    ) -> ImportRead:
        return _read(await import_service.apply(import_id))


def _stream(request: Request[Any, Any, Any], kind: str, filters: dict[str, Any], q: str | None) -> Stream:
    """The rows are read in a session of their own, as the response is sent."""
    config: SQLAlchemyAsyncConfig = request.app.state.db_config

    async def chunks() -> AsyncIterator[bytes]:
        async with config.get_session() as session:
            async for chunk in export_chunks(session, kind, filters, q):
                yield chunk

    filename = f"{kind}-{date.today().isoformat()}.csv"
    return Stream(
        chunks(),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class OrganisationExportController(Controller):
    path = "/api/v1/organisations"
    tags = ["Imports and exports"]
    guards = [requires_viewer]
    dependencies = {"import_service": provide_import_service}

    @get(
        "/export.csv",
        operation_id="exportOrganisations",
        summary="Export organisations as CSV",
        description="The organisations the filters select, in the columns of the organisations import "
        "(UTF-8 with BOM, semicolons: Excel opens it as is). Importing the file again changes nothing.",
        media_type=CSV_MEDIA_TYPE,
    )
    async def export_organisations(
        self,
        request: Request[Any, Any, Any],
        import_service: NamedDependency[ImportService],
        q: Annotated[str | None, Parameter(description="Search text, as in the list")] = None,
        kind: Annotated[OrganisationKind | None, Parameter(description="Only this kind")] = None,
        region_code: Annotated[str | None, Parameter(description="Région code, e.g. 94")] = None,
        departement_code: Annotated[str | None, Parameter(description="Département code, e.g. 2A")] = None,
        membership_status: Annotated[MembershipStatus | None, Parameter(description="Membership status")] = None,
        tag: Annotated[str | None, Parameter(description="Carries this tag (by name)")] = None,
        is_partner: Annotated[bool | None, Parameter(description="Partners only (true) or others (false)")] = None,
    ) -> Stream:
        filters = {
            k: v
            for k, v in {
                "kind": kind,
                "region_code": region_code,
                "departement_code": departement_code,
                "membership_status": membership_status,
                "tag": tag,
                "is_partner": is_partner,
            }.items()
            if v is not None
        }
        q = (q or "").strip() or None
        await import_service.start_export(ORGANISATIONS, filters, q)
        return _stream(request, ORGANISATIONS, filters, q)


class PeopleExportController(Controller):
    path = "/api/v1/people"
    tags = ["Imports and exports"]
    guards = [requires_viewer]
    dependencies = {"import_service": provide_import_service}

    @get(
        "/export.csv",
        operation_id="exportPeople",
        summary="Export people as CSV",
        description="The people the filters select, each with their latest current position at an organisation that "
        "has an INSEE code or a SIREN, in the columns "
        "of the people import (UTF-8 with BOM, semicolons). Importing the file again changes nothing.",
        media_type=CSV_MEDIA_TYPE,
    )
    async def export_people(
        self,
        request: Request[Any, Any, Any],
        import_service: NamedDependency[ImportService],
        q: Annotated[str | None, Parameter(description="Search text, as in the list")] = None,
        kind: Annotated[PositionKind | None, Parameter(description="elected or staff, in a current position")] = None,
        organisation_id: Annotated[UUID | None, Parameter(description="Holds a current position there")] = None,
        title: Annotated[str | None, Parameter(description="Part of a current position's title")] = None,
        region_code: Annotated[str | None, Parameter(description="Région of a current position")] = None,
        tag: Annotated[str | None, Parameter(description="Carries this tag (by name)")] = None,
    ) -> Stream:
        filters = {
            k: v
            for k, v in {
                "kind": kind,
                "organisation_id": organisation_id,
                "title": title,
                "region_code": region_code,
                "tag": tag,
            }.items()
            if v is not None
        }
        q = (q or "").strip() or None
        await import_service.start_export(PEOPLE, filters, q)
        return _stream(request, PEOPLE, filters, q)
