"""A year's label results in bulk: from a CSV file or one JSON batch, checked whole, written all
or nothing, with a dry run that says what would change.

Each row names a city by code: the INSEE code of a commune (as spreadsheets write it: 1053 for
01053, 2a004) or the SIREN of an EPCI (9 digits). A city not yet in the CRM is created from the
official data, as staff would create it by hand. A city that already has a label that year gets the
new level and green "@" (results are corrected by sending them again)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.label import LabelAward
from crm.db.models.organisation import Organisation, OrganisationKind
from crm.db.models.reference import Commune, Epci
from crm.domain.geo.codes import clean_insee_code, clean_siren
from crm.domain.imports.csvfiles import CellError, csv_lines, parse_bool, plain_key, read_records
from crm.domain.labels.schemas import MAX_RESULTS, LabelResultOutcome, LabelResultsReport
from crm.domain.organisations.schemas import OrganisationCreate
from crm.domain.organisations.services import OrganisationService
from crm.lib.problems import ProblemError, field_error, invalid

LABELLED_KINDS = frozenset({OrganisationKind.COMMUNE, OrganisationKind.EPCI})
# The green "@" was first awarded in 2021.
GREEN_SINCE = 2021
MAX_ERRORS = 100

# Header names accepted for each column, as `plain_key` writes them.
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "code_insee", "insee", "insee_code", "siren", "code_siren", "cog", "code_commune", "insee_siren"),
    "level": ("level", "niveau", "arobases", "nombre_d_arobases", "nb_arobases", "label", "resultat"),
    "green": ("green", "vert", "verte", "arobase_verte", "label_vert", "green_arobase"),
}
PALMARES_COLUMNS = (
    "year",
    "level",
    "green",
    "name",
    "kind",
    "insee_code",
    "siren",
    "departement_code",
    "population",
)
HEADER_INDEX = {alias: column for column, aliases in CSV_COLUMNS.items() for alias in aliases}


@dataclass(frozen=True, slots=True)
class ResultRow:
    line: int
    code: str
    level: int
    green: bool
    where: str  # "results.3" in a JSON batch, "" in a file (the line says where)

    def error(self, column: str, message: str) -> dict[str, str]:
        if self.where:
            return field_error(f"{self.where}.{column}", message)
        return field_error("file", f"line {self.line}, {column}: {message}")


def check_year(year: int) -> None:
    # Labels are announced for the coming year at the latest; further out is a typing error.
    latest = date.today().year + 1
    if year > latest:
        raise invalid("year", f"cannot be after {latest}")


def parse_level(value: str) -> int:
    """4, "4 @", "@@@@" or "4@": the number of "@"."""
    text = value.strip()
    if text and set(text) == {"@"}:
        level = len(text)
    else:
        digits = re.fullmatch(r"([1-5])\s*@?", text)
        if digits is None:
            raise CellError(f"{value!r} is not a level: write 1 to 5 (or @ to @@@@@)", "not_a_label_level", value=value)
        level = int(digits.group(1))
    if not 1 <= level <= 5:
        raise CellError(f"{value!r} is not a level: write 1 to 5 (or @ to @@@@@)", "not_a_label_level", value=value)
    return level


def read_results_csv(data: bytes) -> list[ResultRow]:
    """The rows of a results file (code; level; green), or a 422 on `file` listing every bad cell."""
    records, _, _ = read_records(data, MAX_RESULTS)
    columns: dict[str, int] | None = None
    code_columns: list[int] = []
    rows: list[ResultRow] = []
    errors: list[dict[str, str]] = []
    for line, record in records:
        if columns is None:
            columns = {}
            for i, name in enumerate(record):
                column = HEADER_INDEX.get(plain_key(name))
                if column == "code":
                    # Both insee_code and siren (as the palmarès file has them): the first filled wins.
                    code_columns.append(i)
                if column and column not in columns:
                    columns[column] = i
            missing = [c for c in ("code", "level") if c not in columns]
            if missing:
                raise invalid(
                    "file", f"the header line needs the columns code and level (missing: {', '.join(missing)})"
                )
            continue
        if len(rows) + len(errors) >= MAX_RESULTS:
            raise invalid("file", f"has more than {MAX_RESULTS} rows; split it")

        code = next((record[i].strip() for i in code_columns if i < len(record) and record[i].strip()), "")
        try:
            level = parse_level(_cell(record, columns, "level"))
            green = parse_bool(_cell(record, columns, "green")) if _cell(record, columns, "green") else False
        except CellError as exc:
            errors.append(field_error("file", f"line {line}: {exc}", exc.reason.code, line=line, **exc.reason.params))
            continue
        rows.append(ResultRow(line=line, code=code, level=level, green=green, where=""))
    if columns is None:
        raise invalid("file", "has no header line")
    if errors:
        raise ProblemError(422, f"{len(errors)} row(s) cannot be read; nothing was written", errors=errors[:MAX_ERRORS])
    if not rows:
        raise invalid("file", "has a header line but no rows")
    return rows


def palmares_csv(year: int, entries: Sequence[Any]) -> bytes:
    """The palmarès as French Excel opens it (UTF-8 with BOM, semicolons), in columns that this
    module reads back (a corrected file can be sent again as the year's results)."""
    rows = [
        {
            "year": year,
            "level": e.level,
            "green": e.green,
            "name": e.name,
            "kind": e.kind,
            "insee_code": e.insee_code,
            "siren": e.siren,
            "departement_code": e.departement_code,
            "population": e.population,
        }
        for e in entries
    ]
    return "".join(csv_lines(PALMARES_COLUMNS, rows)).encode("utf-8")


def _cell(record: list[str], columns: dict[str, int], column: str) -> str:
    i = columns.get(column)
    return record[i].strip() if i is not None and i < len(record) else ""


def _key(raw: str) -> tuple[str, str]:
    """("siren", 9 digits) or ("insee", a commune code); ProblemError when it is neither."""
    digits = re.sub(r"[\s.]", "", raw)
    if len(digits) == 9 and digits.isdigit():
        return "siren", clean_siren(raw, "code")
    return "insee", clean_insee_code(raw, "code")


async def record_results(
    session: AsyncSession, year: int, rows: Sequence[ResultRow], *, dry_run: bool
) -> LabelResultsReport:
    check_year(year)
    errors: list[dict[str, str]] = []
    keyed: list[tuple[ResultRow, tuple[str, str]]] = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        if not row.code.strip():
            errors.append(row.error("code", "is empty"))
            continue
        try:
            key = _key(row.code)
        except ProblemError as exc:
            errors.append(row.error("code", exc.errors[0]["detail"] if exc.errors else str(exc.detail)))
            continue
        if row.green and year < GREEN_SINCE:
            errors.append(row.error("green", f'the green "@" exists only since {GREEN_SINCE}, not in {year}'))
        if key in seen:
            errors.append(row.error("code", f"{key[1]} is given twice (also line {seen[key]})"))
            continue
        seen[key] = row.line
        keyed.append((row, key))

    insee = [code for (kind, code) in seen if kind == "insee"]
    sirens = [code for (kind, code) in seen if kind == "siren"]
    known: dict[tuple[str, str], Organisation] = {}
    if seen:
        for found in (
            await session.scalars(
                select(Organisation).where(or_(Organisation.insee_code.in_(insee), Organisation.siren.in_(sirens)))
            )
        ).all():
            if found.insee_code in insee:
                known[("insee", found.insee_code)] = found
            if found.siren in sirens:
                known.setdefault(("siren", found.siren), found)
    official: dict[tuple[str, str], str] = {}
    missing_insee = [c for c in insee if ("insee", c) not in known]
    missing_siren = [c for c in sirens if ("siren", c) not in known]
    if missing_insee:
        rows_ = await session.execute(
            select(Commune.insee_code, Commune.name).where(Commune.insee_code.in_(missing_insee))
        )
        official.update({("insee", r.insee_code): r.name for r in rows_})
    if missing_siren:
        rows_ = await session.execute(select(Epci.siren, Epci.name).where(Epci.siren.in_(missing_siren)))
        official.update({("siren", r.siren): r.name for r in rows_})
    for row, key in keyed:
        held = known.get(key)
        if held is not None and held.kind not in LABELLED_KINDS:
            errors.append(row.error("code", f"{held.name} is a {held.kind.value}: only communes and EPCI are labelled"))
        elif held is None and key not in official:
            what = "no commune has the INSEE code" if key[0] == "insee" else "no intercommunality (EPCI) has the SIREN"
            errors.append(row.error("code", f"{what} {key[1]}"))
    if errors:
        raise ProblemError(
            422, f"{len(errors)} row(s) refused; nothing was written", errors=errors[:MAX_ERRORS], refused=len(errors)
        )

    org_ids = [org.id for org in known.values()]
    labels: dict[UUID, LabelAward] = {}
    if org_ids:
        labels = {
            label.organisation_id: label
            for label in (
                await session.scalars(
                    select(LabelAward).where(LabelAward.year == year, LabelAward.organisation_id.in_(org_ids))
                )
            ).all()
        }
    organisations = OrganisationService(session=session)
    outcomes: list[LabelResultOutcome] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row, key in keyed:
        org = known.get(key)
        created_org = org is None
        if org is None and not dry_run:
            kind = OrganisationKind.COMMUNE if key[0] == "insee" else OrganisationKind.EPCI
            data: dict[str, Any] = {"insee_code": key[1]} if key[0] == "insee" else {"siren": key[1]}
            org = await organisations.create_organisation(OrganisationCreate(kind=kind, **data))
        label = labels.get(org.id) if org is not None else None
        if label is None:
            outcome = "created"
            if org is not None and not dry_run:
                session.add(LabelAward(organisation_id=org.id, year=year, level=row.level, green=row.green))
        elif (label.level, label.green) != (row.level, row.green):
            outcome = "updated"
            if not dry_run:
                label.level, label.green = row.level, row.green
        else:
            outcome = "unchanged"
        counts[outcome] += 1
        outcomes.append(
            LabelResultOutcome(
                line=row.line,
                code=key[1],
                organisation_id=org.id if org is not None else None,
                name=org.name if org is not None else official[key],
                level=row.level,
                green=row.green,
                outcome=outcome,
                organisation_created=created_org,
            )
        )
    if not dry_run:
        await session.flush()
    return LabelResultsReport(
        year=year,
        dry_run=dry_run,
        organisations_created=sum(1 for o in outcomes if o.organisation_created),
        rows=outcomes,
        **counts,
    )


def batch_rows(results: Sequence[Any]) -> list[ResultRow]:
    return [
        ResultRow(line=i + 1, code=r.code, level=r.level, green=r.green, where=f"results.{i}")
        for i, r in enumerate(results)
    ]
