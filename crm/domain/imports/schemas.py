from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar.datastructures import UploadFile
from pydantic import Field

from crm.db.models.imports import ImportStatus
from crm.lib.schemas import Schema


@dataclass
class ImportUpload:
    """The multipart form of a dry run."""

    file: UploadFile
    kind: str  # organisations | people
    # What the columns the headers do not name are: a JSON object {"header": "column" or "ignore"},
    # or one "header -> column" per line.
    mapping: str | None = None


class RowError(Schema):
    line: int = Field(description="Line number in the file; the header is line 1")
    column: str = Field(description="The column at fault (its canonical name), empty for the whole row")
    why: str = Field(description="Why, in English")
    code: str | None = Field(default=None, description="Stable machine code of the reason, for clients to word it")
    params: dict[str, Any] | None = Field(default=None, description="The values the code's sentence names")


class ColumnMapping(Schema):
    column: str = Field(description="The header as written in the file")
    field: str = Field(description="The column it was read as, or `ignore`")
    by: str = Field(description="header (a name the import knows), mapping (the upload's), or not recognised")


class ImportReport(Schema):
    kind: str
    encoding: str = Field(description="utf-8, utf-8-sig (with BOM), windows-1252 or utf-16 (Texte Unicode)")
    delimiter: str
    delimiter_name: str = Field(default="", description="semicolon, comma or tab")
    header_line: int = Field(default=1, description="The line read as the header (a title may come first)")
    columns: list[str] = Field(description="The columns recognised, by their canonical names")
    ignored_columns: list[str] = Field(description="Header names that matched no column, or mapped to ignore")
    mapping: list[ColumnMapping] = Field(default_factory=list, description="How each column of the file was read")
    rows: int
    errors: list[RowError]
    error_count: int = Field(description="All errors, when `errors` lists only the first ones")
    warnings: list[RowError] = Field(
        default_factory=list,
        description="What the import did on its own, row by row: a phone's lost 0 restored, a kind of "
        "position inferred from the function",
    )
    warning_count: int = 0
    to_create: int
    to_update: int
    unchanged: int
    first_to_create: list[dict[str, Any]]
    first_to_update: list[dict[str, Any]]
    first_unchanged: list[dict[str, Any]]


class ImportRead(Schema):
    id: UUID
    kind: str
    filename: str
    status: ImportStatus
    encoding: str
    delimiter: str
    row_count: int
    processed: int = Field(description="Rows done by the check or apply under way (all of them once it is over)")
    total: int = Field(description="Rows in the file")
    report: ImportReport | None = Field(description="The last check's or apply's; null until the first check is done")
    created_at: datetime
    applied_at: datetime | None


class ImportSummary(Schema):
    id: UUID
    kind: str
    filename: str
    status: ImportStatus
    row_count: int
    error_count: int
    created_at: datetime
    applied_at: datetime | None
