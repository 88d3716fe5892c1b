"""Exports: the organisations and people a list selects, in the import's own columns, so that an
exported file can be edited and imported back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db.models.organisation import Organisation
from crm.domain.imports.csvfiles import (
    COLUMNS,
    ORGANISATION_COLUMNS,
    ORGANISATIONS,
    csv_lines,
    excel_phone,
)
from crm.domain.organisations.services import OrganisationService
from crm.domain.people.services import PersonService
from crm.lib.listing import ListQuery

EXPORT_PAGE = 500


async def organisation_rows(
    session: AsyncSession, filters: dict[str, Any], q: str | None
) -> AsyncIterator[dict[str, Any]]:
    """Every organisation the filters select, page by page, in the import's columns."""
    service = OrganisationService(session=session)
    offset = 0
    while True:
        items, _ = await service.search(
            ListQuery(limit=EXPORT_PAGE, offset=offset, sort="id", q=q), frozenset({"id"}), **filters
        )
        if not items:
            return
        # The list's read shape holds every column of the file, membership and tags included.
        for o in items:
            yield {**{c: o[c] for c in ORGANISATION_COLUMNS}, "phone": excel_phone(o["phone"])}
        offset += EXPORT_PAGE


async def people_rows(session: AsyncSession, filters: dict[str, Any], q: str | None) -> AsyncIterator[dict[str, Any]]:
    """Every person the filters select, with their latest current position at an organisation that
    has an INSEE code or a SIREN, in the import's columns."""
    service = PersonService(session=session)
    offset = 0
    while True:
        items, _ = await service.list_people(
            ListQuery(limit=EXPORT_PAGE, offset=offset, sort="id", q=q), frozenset({"id"}), **filters
        )
        if not items:
            return
        org_ids = {UUID(position["organisation_id"]) for p in items for position in p["positions"]}
        codes = {
            row.id: (row.insee_code, row.siren)
            for row in (
                await session.execute(
                    select(Organisation.id, Organisation.insee_code, Organisation.siren).where(
                        Organisation.id.in_(org_ids)
                    )
                )
            ).all()
        }
        for p in items:
            # The latest current position at an organisation with an official code: the import finds
            # organisations by code, so a position elsewhere (a partner association) cannot round-trip.
            position = next((x for x in p["positions"] if any(codes.get(UUID(x["organisation_id"]), ()))), None)
            insee_code, siren = codes[UUID(position["organisation_id"])] if position else (None, None)
            yield {
                "id": p["id"],
                "first_name": p["first_name"],
                "last_name": p["last_name"],
                "email": p["email"],
                "phone": excel_phone(p["phone"]),
                "language": p["language"],
                "organisation_insee_code": insee_code,
                "organisation_siren": siren if not insee_code else None,
                "position_title": position["title"] if position else None,
                "position_kind": position["kind"] if position else None,
                "position_started_on": position["started_on"] if position else None,
                "tags": p["tags"],
            }
        offset += EXPORT_PAGE


async def export_chunks(
    session: AsyncSession, kind: str, filters: dict[str, Any], q: str | None
) -> AsyncIterator[bytes]:
    rows = organisation_rows(session, filters, q) if kind == ORGANISATIONS else people_rows(session, filters, q)
    columns = COLUMNS[kind]
    buffered: list[dict[str, Any]] = []
    header_sent = False
    async for row in rows:
        buffered.append(row)
        if len(buffered) >= EXPORT_PAGE:
            yield "".join(_lines(columns, buffered, header=not header_sent)).encode("utf-8")
            header_sent = True
            buffered = []
    yield "".join(_lines(columns, buffered, header=not header_sent)).encode("utf-8")


def _lines(columns: tuple[str, ...], rows: list[dict[str, Any]], *, header: bool) -> list[str]:
    lines = list(csv_lines(columns, rows))
    return lines if header else lines[1:]
