"""CSV imports (editors: dry run, then apply, both in the worker) and CSV exports of organisations
and people (viewers)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, Parameter
from litestar.response import Stream
from litestar.status_codes import HTTP_202_ACCEPTED

from crm.db.models.imports import ImportBatch
from crm.db.models.membership import MembershipStatus
from crm.db.models.organisation import OrganisationKind
from crm.db.models.person import PositionKind
from crm.domain.auth.guards import requires_editor, requires_viewer
from crm.domain.imports.csvfiles import FIELDS, ORGANISATIONS, PEOPLE
from crm.domain.imports.exports import export_chunks
from crm.domain.imports.queue import enqueue_import
from crm.domain.imports.schemas import ImportRead, ImportSummary, ImportUpload
from crm.domain.imports.services import ImportService
from crm.domain.imports.vocabulary import HEADERS
from crm.domain.providers import provide_import_service
from crm.lib.actor import current_actor
from crm.lib.csv_safety import CSV_MEDIA_TYPE
from crm.lib.listing import MAX_SEARCH, ListQuery, list_query, page
from crm.lib.problems import invalid
from crm.lib.schemas import Page
from crm.lib.services import after_commit

SORTABLE = frozenset({"created_at", "applied_at", "filename", "kind", "status"})


def _accepted_columns() -> str:
    """The accepted header names, for the API documentation: generated, so it cannot go stale."""
    parts = []
    for kind in (ORGANISATIONS, PEOPLE):
        names = "; ".join(f"`{c}` ({', '.join(HEADERS[kind].get(c, ()))})" for c in FIELDS[kind])
        parts.append(f"{kind.capitalize()} columns, with the other names accepted: {names}.")
    return " ".join(parts)


MAX_MAPPING = 20_000


def parse_mapping(text: str | None) -> dict[str, str] | None:
    """The upload's mapping: a JSON object {"header": "column" or "ignore"}, or one
    "header -> column" (or "header → column") per line."""
    if text is None or not text.strip():
        return None
    if len(text) > MAX_MAPPING:
        raise invalid("mapping", f"is longer than {MAX_MAPPING} characters")
    if text.lstrip().startswith("{"):
        try:
            mapping = json.loads(text)
        except ValueError as exc:
            raise invalid("mapping", f"is not JSON: {exc}") from exc
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise invalid("mapping", 'must be an object of strings: {"header": "column or ignore"}')
        return {str(k): v for k, v in mapping.items()}
    pairs = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = re.split(r"\s*(?:->|→|=)\s*", line.strip(), maxsplit=1)
        if len(parts) != 2:
            raise invalid("mapping", f"{line.strip()!r}: write header -> column, one per line")
        pairs[parts[0]] = parts[1]
    return pairs


def _read(batch: ImportBatch) -> ImportRead:
    return ImportRead(
        id=batch.id,
        kind=batch.kind,
        filename=batch.filename,
        status=batch.status,
        encoding=batch.encoding,
        delimiter=batch.delimiter,
        row_count=batch.total,
        processed=batch.processed,
        total=batch.total,
        # Until the first check is done, the report holds only what reading the file found.
        report=batch.report if "error_count" in batch.report else None,  # type: ignore[arg-type]
        created_at=batch.created_at,
        applied_at=batch.applied_at,
    )


class ImportController(Controller):
    path = "/api/v1/imports"
    tags = ["Imports and exports"]
    guards = [requires_editor]
    dependencies = {
        "import_service": provide_import_service,
        "listing": list_query(SORTABLE),
    }

    @post(
        "/",
        operation_id="checkImport",
        summary="Check a CSV file (dry run)",
        status_code=HTTP_202_ACCEPTED,
        description="Upload a CSV of organisations or people (multipart form: `file`, and `kind` = organisations "
        "or people). A file that cannot be read at all is refused at once (422 naming `file`). Otherwise the "
        "answer is 202 with the import, status `checking`: the check runs in the background, whatever the "
        "file's size (a few hundred rows take well under a second). Follow it with `GET /api/v1/imports/{id}`: "
        "`processed` counts the rows done out of `total`, and once the status is `checked` the report lists "
        "every bad row (line in the file, column, why) and what an apply would create, update or leave "
        "unchanged. Nothing is written. Accepts UTF-8 with or without BOM and "
        "Windows-1252, UTF-16 (Excel's Texte Unicode), semicolons, commas or tabs, a title line above the header "
        "(the report says which line was read as the header), and French header names (Code INSEE, Adresse "
        "électronique, Prénom(s)...), compared without case, accents, punctuation, little words or word order. "
        "A column the headers do not name but that seems to hold data (e-mails, dates, phones, codes, communes, "
        "or a header that reads like a known one) stops the check with a 422 on `mapping` listing the questions: "
        'send the file again with `mapping`, a JSON object {"header": "column" or "ignore"}; the report '
        "shows the mapping used. Organisations may be named instead of coded (a `place` column: Commune, Ville, "
        "EPCI...: 'Saint-Denis (93)', 'St Etienne', 'CA du Grand Annecy'): a name several places share needs a "
        "Département column, and close spellings are proposed as errors, never applied. Without a kind column, "
        "a position's kind is inferred from its function (maire: elected, DGS: staff), and a doubt is a row "
        "error. A single seat (maire of a commune, président·e of an EPCI) given to someone new ends the "
        "previous holder's position in the same apply, and a new function for a known person at an "
        "organisation ends their other functions there (unless `keep_positions` says oui). A name in capitals "
        "never overwrites the same name stored in lower case; a French phone number that lost its leading 0 "
        "gets it back (a warning says so); a '?' where a Windows-1252 save lost a letter is a row error. "
        "Dates: 2024-01-31, 31/01/2024 or "
        "31/01/24; yes/no: oui/non; tags separated by |. An empty cell leaves the stored value as it is; "
        "tags are added, never removed. A row is matched first on `id` (the record's id, the first column of "
        "an export; an unknown id is a row error), then organisations on INSEE code or SIREN (else on kind and "
        "name), people on e-mail; a person found by id may get an e-mail address or change it. A person with "
        "neither id nor e-mail is created (first and last names required), and a later import finds them only "
        "by id. A person with an organisation code and a position title gets that position "
        "there unless they hold it already. " + _accepted_columns(),
    )
    async def check_import(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[ImportUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        import_service: NamedDependency[ImportService],
    ) -> ImportRead:
        content = await data.file.read()
        batch = await import_service.upload(
            str(data.kind).strip().lower(),
            data.file.filename,
            content,
            current_actor.get().id,
            parse_mapping(data.mapping),
        )
        await _queue(request, import_service, batch)
        return _read(batch)

    @get(
        "/",
        operation_id="listImports",
        summary="List imports",
        description="Imports being checked or applied, checked, applied and failed, latest first.",
    )
    async def list_imports(
        self,
        import_service: NamedDependency[ImportService],
        listing: NamedDependency[ListQuery],
        kind: Annotated[str | None, Parameter(max_length=40, description="organisations or people")] = None,
    ) -> Page[ImportSummary]:
        items, total = await import_service.list_batches(listing, SORTABLE, kind)
        summaries = [
            ImportSummary(
                id=b.id,
                kind=b.kind,
                filename=b.filename,
                status=b.status,
                row_count=b.total,
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
        description="The status (checking, checked, applying, applied, failed), the progress of the check or "
        "apply under way (`processed` rows out of `total`) and the report of the last check or apply (null "
        "until the first check is done). An apply that failed has the report of the apply.",
    )
    async def get_import(self, import_service: NamedDependency[ImportService], import_id: FromPath[UUID]) -> ImportRead:
        return _read(await import_service.get(import_id))

    @post(
        "/{import_id:uuid}/apply",
        operation_id="applyImport",
        summary="Apply a checked import",
        description="Answers 202 with the import, status `applying`: the worker writes every row in one "
        "transaction, all or nothing, whatever the file's size; follow it with `GET /api/v1/imports/{id}` "
        "until the status is `applied`, or `failed` with the report naming the rows that are bad now (then "
        "nothing was written). An import whose check found bad rows is refused at once: 422 with the report, "
        "and the import is marked failed. 409 while it is being checked or applied, and once applied.",
        status_code=HTTP_202_ACCEPTED,
    )
    async def apply_import(
        self, request: Request[Any, Any, Any], import_service: NamedDependency[ImportService], import_id: FromPath[UUID]
    ) -> ImportRead:
        batch = await import_service.request_apply(import_id, current_actor.get().id)
        await _queue(request, import_service, batch)
        return _read(batch)


async def _queue(request: Request[Any, Any, Any], import_service: ImportService, batch: ImportBatch) -> None:
    # Queued once the request is committed, so that the job finds the batch.
    redis = request.app.state.redis
    after_commit(import_service.session, lambda: enqueue_import(redis, batch.id))


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
        "(UTF-8 with BOM, semicolons: Excel opens it as is), each organisation's `id` first. Importing the file "
        "again changes nothing.",
        media_type=CSV_MEDIA_TYPE,
    )
    async def export_organisations(
        self,
        request: Request[Any, Any, Any],
        import_service: NamedDependency[ImportService],
        q: Annotated[str | None, Parameter(max_length=MAX_SEARCH, description="Search text, as in the list")] = None,
        kind: Annotated[OrganisationKind | None, Parameter(description="Only this kind")] = None,
        region_code: Annotated[str | None, Parameter(max_length=10, description="Région code, e.g. 94")] = None,
        departement_code: Annotated[
            str | None, Parameter(max_length=10, description="Département code, e.g. 2A")
        ] = None,
        membership_status: Annotated[MembershipStatus | None, Parameter(description="Membership status")] = None,
        tag: Annotated[str | None, Parameter(max_length=100, description="Carries this tag (by name)")] = None,
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
        "of the people import (UTF-8 with BOM, semicolons), each person's `id` first. Importing the file again "
        "changes nothing.",
        media_type=CSV_MEDIA_TYPE,
    )
    async def export_people(
        self,
        request: Request[Any, Any, Any],
        import_service: NamedDependency[ImportService],
        q: Annotated[str | None, Parameter(max_length=MAX_SEARCH, description="Search text, as in the list")] = None,
        kind: Annotated[PositionKind | None, Parameter(description="elected or staff, in a current position")] = None,
        organisation_id: Annotated[UUID | None, Parameter(description="Holds a current position there")] = None,
        title: Annotated[
            str | None, Parameter(max_length=200, description="Part of a current position's title")
        ] = None,
        region_code: Annotated[str | None, Parameter(max_length=10, description="Région of a current position")] = None,
        tag: Annotated[str | None, Parameter(max_length=100, description="Carries this tag (by name)")] = None,
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
