"""The yearly label: awards by staff, a member's history, the palmarès of a year."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK

from crm.domain.auth.guards import requires_admin, requires_editor, requires_viewer
from crm.domain.labels.results import batch_rows, read_results_csv
from crm.domain.labels.schemas import (
    MAX_RESULTS,
    LabelCreate,
    LabelRead,
    LabelResultsBatch,
    LabelResultsReport,
    LabelUpdate,
    Palmares,
)
from crm.domain.labels.services import LabelService
from crm.domain.providers import provide_label_service
from crm.lib.csv_safety import CSV_MEDIA_TYPE
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.schemas import MAX_YEAR, MIN_YEAR, Page

SORTABLE = frozenset({"year", "level", "created_at"})


@dataclass
class ResultsUpload:
    """The multipart form of a results file."""

    file: UploadFile


class LabelController(Controller):
    path = "/api/v1/labels"
    tags = ["Labels"]
    guards = [requires_viewer]
    dependencies = {
        "label_service": provide_label_service,
        "listing": list_query(SORTABLE),
    }

    @get(
        "/",
        operation_id="listLabels",
        summary="List label awards",
        description='Label awards, newest year first by default; filter by year, exact level ("@" count), '
        "green and organisation.",
    )
    async def list_labels(
        self,
        label_service: NamedDependency[LabelService],
        listing: NamedDependency[ListQuery],
        year: Annotated[int | None, Parameter(ge=MIN_YEAR, le=MAX_YEAR, description="Only this year")] = None,
        level: Annotated[int | None, Parameter(ge=1, le=5, description='Only this number of "@"')] = None,
        green: Annotated[bool | None, Parameter(description='With (true) or without (false) the green "@"')] = None,
        organisation_id: Annotated[UUID | None, Parameter(description="Only this organisation")] = None,
    ) -> Page[LabelRead]:
        items, total = await label_service.search(
            listing, SORTABLE, year=year, level=level, green=green, organisation_id=organisation_id
        )
        return Page[LabelRead](**page(await label_service.read(items), total, listing))

    @get(
        "/palmares",
        operation_id="getPalmares",
        summary="The palmarès of a year",
        description='Every city or EPCI labelled that year, by number of "@" (most first) then name, with '
        'the count at each level and of green "@".',
    )
    async def get_palmares(
        self,
        label_service: NamedDependency[LabelService],
        year: Annotated[int, Parameter(ge=MIN_YEAR, le=MAX_YEAR, description="The label's year")],
    ) -> Palmares:
        return await label_service.palmares(year)

    @get(
        "/palmares.csv",
        operation_id="exportPalmares",
        summary="The palmarès of a year, as CSV",
        description="The palmarès as a CSV file for French Excel (UTF-8 with BOM, semicolons): year, level, "
        'green (oui/non), name, kind, insee_code, siren, departement_code, population; most "@" first. '
        "The file can be corrected and sent back to `POST /api/v1/labels/results/csv`.",
        media_type=CSV_MEDIA_TYPE,
    )
    async def export_palmares(
        self,
        label_service: NamedDependency[LabelService],
        year: Annotated[int, Parameter(ge=2000, le=2100, description="The label's year")],
    ) -> Response[bytes]:
        return Response(
            await label_service.palmares_file(year),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="palmares-{year}.csv"'},
        )

    @post(
        "/results",
        operation_id="recordLabelResults",
        summary="A year's results in one batch",
        status_code=HTTP_200_OK,
        description="Gives each city of the batch its label for the year: `code` (INSEE code of a commune, "
        'or SIREN of an EPCI), `level` (1 to 5 "@"), `green`. A city without a label that year gets one, a city '
        "with another level or green changes to this one; a city not yet in the CRM is created from the official "
        "data. All or nothing: any bad row (unknown code, code given twice, green before 2021) answers 422 "
        "naming each (`results.3.code`) and nothing is written. With `dry_run`, says what would happen and "
        f"writes nothing. At most {MAX_RESULTS} rows.",
        guards=[requires_editor],
    )
    async def record_label_results(
        self, data: JSONBody[LabelResultsBatch], label_service: NamedDependency[LabelService]
    ) -> LabelResultsReport:
        return await label_service.record_results(data.year, batch_rows(data.results), dry_run=data.dry_run)

    @post(
        "/results/csv",
        operation_id="importLabelResults",
        summary="A year's results from a CSV file",
        status_code=HTTP_200_OK,
        description="As `POST /api/v1/labels/results`, from a CSV file (multipart form: `file`), the year and "
        "dry_run as query parameters. Columns by header name, in any order, case and accents ignored: the code "
        "(code, code INSEE, SIREN...; with both an INSEE and a SIREN column, the first filled is used), the "
        'level (niveau, arobases: 4, "4 @" or "@@@@") and green (vert, arobase verte: oui/non, empty for no). '
        "UTF-8 or Windows-1252, semicolons or commas. Errors name the line of the file.",
        guards=[requires_editor],
    )
    async def import_label_results(
        self,
        data: Annotated[ResultsUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        label_service: NamedDependency[LabelService],
        year: Annotated[int, Parameter(ge=2000, le=2100, description="The label's year")],
        dry_run: Annotated[bool, Parameter(description="Check and report; write nothing")] = False,
    ) -> LabelResultsReport:
        rows = read_results_csv(await data.file.read())
        return await label_service.record_results(year, rows, dry_run=dry_run)

    @get(
        "/{label_id:uuid}",
        operation_id="getLabel",
        summary="One label award",
        description="A label award by id.",
    )
    async def get_label(self, label_id: FromPath[UUID], label_service: NamedDependency[LabelService]) -> LabelRead:
        return (await label_service.read([await label_service.get(label_id)]))[0]

    @post(
        "/",
        operation_id="createLabel",
        summary="Award a label",
        description='Gives a commune or an EPCI its label for a year: 1 to 5 "@" and maybe the green "@". '
        "One per organisation and year (409 otherwise).",
        guards=[requires_editor],
    )
    async def create_label(
        self, data: JSONBody[LabelCreate], label_service: NamedDependency[LabelService]
    ) -> LabelRead:
        return (await label_service.read([await label_service.award(data)]))[0]

    @patch(
        "/{label_id:uuid}",
        operation_id="updateLabel",
        summary="Change a label award",
        description="Changes the year, level or green flag sent.",
        guards=[requires_editor],
    )
    async def update_label(
        self, label_id: FromPath[UUID], data: JSONBody[LabelUpdate], label_service: NamedDependency[LabelService]
    ) -> LabelRead:
        return (await label_service.read([await label_service.change(label_id, data)]))[0]

    @delete(
        "/{label_id:uuid}",
        operation_id="deleteLabel",
        summary="Withdraw a label award",
        description="Deletes a label award given by mistake.",
        guards=[requires_admin],
    )
    async def delete_label(self, label_id: FromPath[UUID], label_service: NamedDependency[LabelService]) -> None:
        await label_service.delete(label_id)


class OrganisationLabelController(Controller):
    path = "/api/v1/organisations/{organisation_id:uuid}/labels"
    tags = ["Labels"]
    guards = [requires_viewer]
    dependencies = {
        "label_service": provide_label_service,
        "listing": list_query(SORTABLE),
    }

    @get(
        "/",
        operation_id="listOrganisationLabels",
        summary="A member's label history",
        description="The labels of one organisation, newest year first.",
    )
    async def list_organisation_labels(
        self,
        organisation_id: FromPath[UUID],
        label_service: NamedDependency[LabelService],
        listing: NamedDependency[ListQuery],
    ) -> Page[LabelRead]:
        items, total = await label_service.history(organisation_id, listing, SORTABLE)
        return Page[LabelRead](**page(await label_service.read(items), total, listing))
