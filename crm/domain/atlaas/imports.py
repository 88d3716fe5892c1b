"""Importing actions from CSV or JSON, and exporting a search's actions as CSV.

The CRM's import rules (crm/domain/imports/): files as French offices save them (read by
`csvfiles.read_records`: encodings, delimiters, formula cells made inert), every bad cell reported
with its line and column, a dry run first, then an all-or-nothing apply. Lists in a cell are
separated by "|" as in the CRM's other exports. An export imported again changes nothing: rows
with an `id` change that action.

Rows are written in bulk (`insert_many`, also the demo's way in): a few statements for thousands
of actions, each row with its facet columns computed beforehand (`facets.columns`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.response import Stream
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from crm.db.models.atlaas import (
    Action,
    ActionOrganisation,
    ActionPerson,
    ActionPlace,
    ActionStatus,
    ActionTheme,
)
from crm.db.models.organisation import Organisation
from crm.db.models.reference import Commune
from crm.domain.atlaas import facets, search
from crm.domain.atlaas.schemas import CONTENT_FIELDS, ActionContent
from crm.domain.atlaas.services import ActionService, ThemeTree, theme_tree
from crm.domain.geo.codes import INSEE_COMMUNE
from crm.domain.imports.csvfiles import TAG_SEPARATOR, csv_lines, plain_key, raw_cell, read_records
from crm.lib.csv_safety import CSV_MEDIA_TYPE
from crm.lib.problems import ProblemError, invalid

__all__ = ["COLUMNS", "CSV_MEDIA_TYPE", "export_stream", "insert_many", "run"]

MAX_ROWS = 50_000
EXPORT_LIMIT = 100_000
LIST_COLUMNS = ("links", "tools", "providers", "videos", "photos", "insee_codes", "organisations", "themes")
# `id` first, as every export of the CRM: the import matches on it.
COLUMNS: tuple[str, ...] = (
    "id",
    "title",
    "subtitle",
    "year",
    "synthesis",
    "actions_carried_out",
    "results",
    "recommendations",
    "links",
    "tools",
    "providers",
    "videos",
    "photos",
    "insee_codes",
    "organisations",
    "themes",
    "status",
)
THEME_PATH_SEPARATOR = ">"


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(TAG_SEPARATOR) if v.strip()]


def _rows_of(data: bytes, is_json: bool) -> list[tuple[int, dict[str, Any]]]:
    """(line or position, values by column) of each row; a file that cannot be read is a 422 on `file`."""
    if is_json:
        try:
            body = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise invalid("file", f"is not JSON: {exc}") from exc
        if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
            raise invalid("file", "must be a JSON array of objects, one per action")
        if len(body) > MAX_ROWS:
            raise invalid("file", f"has more than {MAX_ROWS} rows; split it")
        unknown = sorted({k for r in body for k in r} - set(COLUMNS))
        if unknown:
            raise invalid("file", f"unknown keys {', '.join(unknown)}; use {', '.join(COLUMNS)}")
        return [(i + 1, r) for i, r in enumerate(body)]
    records, _, _ = read_records(data, MAX_ROWS)
    if not records:
        raise invalid("file", "has no header line")
    (_, header), body = records[0], records[1:]
    names = [plain_key(h) for h in header]
    unknown = [h for h, n in zip(header, names, strict=True) if n and n not in COLUMNS]
    if unknown:
        raise invalid("file", f"unknown columns {', '.join(unknown)}; use {', '.join(COLUMNS)}")
    if not body:
        raise invalid("file", "has a header line but no rows")
    return [(line, {n: raw_cell(record, i) for i, n in enumerate(names) if n}) for line, record in body]


class _Resolver:
    """Turns the codes and names of a file into ids, with one query per kind for the whole file."""

    def __init__(self, communes: set[str], organisations: dict[str, UUID], tree: ThemeTree) -> None:
        self.communes = communes
        self.organisations = organisations
        self.tree = tree
        self.theme_paths = {" > ".join(plain_key(n) for n in tree.path(t)): t for t in tree.nodes} | {
            str(t): t for t in tree.nodes
        }

    def theme(self, text: str) -> UUID | None:
        key = " > ".join(plain_key(part) for part in text.split(THEME_PATH_SEPARATOR))
        return self.theme_paths.get(key) or self.theme_paths.get(text.strip().lower())


async def _resolver(session: AsyncSession, rows: list[tuple[int, dict[str, Any]]]) -> _Resolver:
    codes = {c.upper() for _, r in rows for c in _split(r.get("insee_codes"))}
    communes = set((await session.execute(select(Commune.insee_code).where(Commune.insee_code.in_(codes)))).scalars())
    wanted = {o for _, r in rows for o in _split(r.get("organisations"))} | codes
    organisations: dict[str, UUID] = {}
    ids = []
    for token in wanted:
        try:
            ids.append(UUID(token))
        except ValueError:
            continue
    found = await session.execute(
        select(Organisation.id, Organisation.insee_code, Organisation.siren).where(
            Organisation.id.in_(ids) | Organisation.insee_code.in_(wanted) | Organisation.siren.in_(wanted)
        )
    )
    for org_id, insee, siren in found:
        organisations[str(org_id)] = org_id
        for code in (insee, siren):
            if code:
                organisations[code] = org_id
    return _Resolver(communes, organisations, await theme_tree(session))


def _prepare(line: int, raw: dict[str, Any], resolve: _Resolver) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """One row's values ready to insert, or its errors (line, column, why)."""
    errors: list[dict[str, Any]] = []

    def error(column: str, why: str) -> None:
        errors.append({"line": line, "column": column, "error": why})

    content: dict[str, Any] = {k: raw.get(k) or None for k in CONTENT_FIELDS}
    for key in ("links", "tools", "providers", "videos", "photos"):
        content[key] = _split(raw.get(key))
    codes = [c.upper() for c in _split(raw.get("insee_codes"))]
    content["places"] = [{"insee_code": c} for c in codes]
    try:
        checked = ActionContent.model_validate(content)
    except ValidationError as exc:
        for e in exc.errors():
            loc = e["loc"][0] if e["loc"] else "row"
            error("insee_codes" if loc == "places" else str(loc), e["msg"])
        checked = None
    for code in codes:
        if not INSEE_COMMUNE.match(code) or code not in resolve.communes:
            error("insee_codes", f"no commune has the INSEE code {code} (a postal code?)")
    organisation_ids = []
    for token in _split(raw.get("organisations")):
        org = resolve.organisations.get(token) or resolve.organisations.get(token.upper())
        if org is None:
            error("organisations", f"no organisation has the id, INSEE code or SIREN {token}")
        else:
            organisation_ids.append(org)
    if not _split(raw.get("organisations")):
        # Without organisations, those of the action's communes (the members among them).
        organisation_ids = [resolve.organisations[c] for c in codes if c in resolve.organisations]
        if not organisation_ids and not any(e["column"] == "insee_codes" for e in errors):
            error("organisations", "give the organisations the action belongs to (id, INSEE code or SIREN)")
    theme_ids = []
    for token in _split(raw.get("themes")):
        theme = resolve.theme(token)
        if theme is None:
            error("themes", f"no theme is {token!r}; write its path, e.g. Axe > Enjeu > Usage > Service")
        else:
            theme_ids.append(theme)
    status_text = (str(raw.get("status") or "draft")).strip().lower()
    if status_text not in {s.value for s in ActionStatus}:
        error("status", "must be draft or published")
    action_id = None
    if raw.get("id"):
        try:
            action_id = UUID(str(raw["id"]))
        except ValueError:
            error("id", "is not an id as the export writes it; leave it empty for a new action")
    if errors or checked is None:
        return None, errors
    values = checked.model_dump(mode="json")
    values |= {
        "id": action_id,
        "organisation_ids": list(dict.fromkeys(organisation_ids)),
        "theme_ids": list(dict.fromkeys(theme_ids)),
        "status": status_text,
    }
    return values, []


async def run(session: AsyncSession, data: bytes, *, is_json: bool, dry_run: bool, publish: bool) -> dict[str, Any]:
    """The report of a file: rows read, rows valid, errors by line and column. Applied (not
    `dry_run`), every row is stored or, with one error, none (a 422 carrying the same report)."""
    rows = _rows_of(data, is_json)
    resolve = await _resolver(session, rows)
    prepared: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for line, raw in rows:
        values, row_errors = _prepare(line, raw, resolve)
        errors += row_errors
        if values is not None:
            prepared.append(values)
    existing = [v["id"] for v in prepared if v["id"]]
    if existing:
        known = set((await session.execute(select(Action.id).where(Action.id.in_(existing)))).scalars())
        for (line, _), values in zip(rows, prepared, strict=False):
            if values["id"] and values["id"] not in known:
                errors.append({"line": line, "column": "id", "error": "no action has this id"})
    report = {
        "dry_run": dry_run,
        "rows": len(rows),
        "valid": len(rows) - len({e["line"] for e in errors}),
        "created": 0,
        "updated": 0,
        "errors": errors,
    }
    if dry_run:
        return report
    if errors:
        raise ProblemError(
            422,
            f"{len(errors)} errors in the file: nothing was imported",
            errors=[{"field": f"line {e['line']}.{e['column']}", "detail": e["error"]} for e in errors[:200]],
            code="import_rejected",
            report=report,
        )
    if publish:
        for values in prepared:
            values["status"] = ActionStatus.PUBLISHED.value
    # Rows with an id change their action (rare: an export edited and sent back), the others are
    # written in bulk.
    updated = [v for v in prepared if v["id"]]
    actions = ActionService(session=session)
    for values in updated:
        await actions.change(values["id"], {k: v for k, v in values.items() if k not in ("id", "status")})
        await actions.set_status(values["id"], ActionStatus(values["status"]))
    await insert_many(session, [v for v in prepared if not v["id"]])
    report["created"] = len(prepared) - len(updated)
    report["updated"] = len(updated)
    return report


BULK_ROWS = 1_000
GIN_INDEXES = ("ix_atlaas_action_search", "ix_atlaas_action_themes", "ix_atlaas_action_places")


async def _copy(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> None:
    """Rows into a table by PostgreSQL's COPY (asyncpg's binary protocol): several times faster
    than batched INSERTs for the thousands of rows of an import or the demo."""
    if not rows:
        return
    names = list(rows[0])
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None  # an open asyncpg connection
    records = [tuple(getattr(row[n], "value", row[n]) for n in names) for row in rows]
    await raw.copy_records_to_table(table.name, records=records, columns=names)


async def insert_many(session: AsyncSession, actions: Sequence[dict[str, Any]]) -> list[UUID]:
    """Writes actions in bulk: each a dict of its content fields, `status`, `places`,
    `organisation_ids`, `theme_ids`, optionally `id` and `people`."""
    now = datetime.now(UTC)
    action_rows, places, organisations, people, themes = [], [], [], [], []
    ids: list[UUID] = []
    found = await facets.lookups(
        session,
        (p["insee_code"] for values in actions for p in values.get("places") or []),
        (o for values in actions for o in values.get("organisation_ids") or []),
    )
    for values in actions:
        action_id = values.get("id") or uuid7()
        ids.append(action_id)
        status = ActionStatus(values.get("status") or ActionStatus.DRAFT)
        row = {k: values.get(k) for k in CONTENT_FIELDS}
        for key in ("links", "tools", "providers", "videos", "photos"):
            row[key] = list(row[key] or [])
        row |= facets.columns(
            [p["insee_code"] for p in values.get("places") or []],
            list(values.get("organisation_ids") or []),
            list(values.get("theme_ids") or []),
            list(row["tools"] or []),
            list(row["providers"] or []),
            found,
        )
        action_rows.append(
            row
            | {
                "id": action_id,
                "status": status,
                "published_at": values.get("published_at") or (now if status is ActionStatus.PUBLISHED else None),
                "created_at": now,
                "updated_at": now,
            }
        )
        for p in {p["insee_code"]: p for p in values.get("places") or []}.values():
            places.append(
                {
                    "id": uuid7(),
                    "action_id": action_id,
                    "insee_code": p["insee_code"],
                    "latitude": p.get("latitude"),
                    "longitude": p.get("longitude"),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for org in dict.fromkeys(values.get("organisation_ids") or []):
            organisations.append(
                {"id": uuid7(), "action_id": action_id, "organisation_id": org, "created_at": now, "updated_at": now}
            )
        for person in {p["person_id"]: p for p in values.get("people") or []}.values():
            people.append(
                {
                    "id": uuid7(),
                    "action_id": action_id,
                    "person_id": person["person_id"],
                    "role": person.get("role"),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for theme in dict.fromkeys(values.get("theme_ids") or []):
            themes.append(
                {"id": uuid7(), "action_id": action_id, "theme_id": theme, "created_at": now, "updated_at": now}
            )
    # Thousands of rows: their GIN entries go to the pending list and into the index in one sorted
    # pass at the end (3 times faster than one by one); the index is left as searches want it,
    # with no pending list (migration 0011 says why). The lock this takes lets reads and writes go on.
    bulk = len(action_rows) >= BULK_ROWS
    if bulk:
        for index in GIN_INDEXES:
            await session.execute(text(f"ALTER INDEX {index} SET (fastupdate = on)"))
    for table, rows in (
        (Action.__table__, action_rows),
        (ActionPlace.__table__, places),
        (ActionOrganisation.__table__, organisations),
        (ActionPerson.__table__, people),
        (ActionTheme.__table__, themes),
    ):
        await _copy(session, table, rows)
    if bulk:
        for index in GIN_INDEXES:
            await session.execute(text(f"SELECT gin_clean_pending_list('{index}'::regclass)"))
            await session.execute(text(f"ALTER INDEX {index} SET (fastupdate = off)"))
    return ids


# ---- export ----------------------------------------------------------------------------------


async def export_rows(
    session: AsyncSession, filters: search.Filters, limit: int = EXPORT_LIMIT
) -> AsyncIterator[dict[str, Any]]:
    ids = list(await search.all_ids(session, filters, limit))
    tree = await theme_tree(session)
    for i in range(0, len(ids), 1_000):
        chunk = ids[i : i + 1_000]
        actions = {a.id: a for a in (await session.execute(select(Action).where(Action.id.in_(chunk)))).scalars()}
        organisations: dict[UUID, list[str]] = {}
        for action_id, org_id in await session.execute(
            select(ActionOrganisation.action_id, ActionOrganisation.organisation_id).where(
                ActionOrganisation.action_id.in_(chunk)
            )
        ):
            organisations.setdefault(action_id, []).append(str(org_id))
        chosen: dict[UUID, list[str]] = {}
        for action_id, theme_id in await session.execute(
            select(ActionTheme.action_id, ActionTheme.theme_id).where(ActionTheme.action_id.in_(chunk))
        ):
            chosen.setdefault(action_id, []).append(" > ".join(tree.path(theme_id)))
        for action_id in chunk:
            a = actions[action_id]
            yield {k: getattr(a, k) for k in CONTENT_FIELDS} | {
                "id": a.id,
                "insee_codes": a.insee_codes,
                "organisations": organisations.get(a.id, []),
                "themes": sorted(chosen.get(a.id, [])),
                "status": a.status.value,
            }


def export_stream(request: Request[Any, Any, Any], filters: search.Filters, limit: int = EXPORT_LIMIT) -> Stream:
    """The rows (the search's first `limit`, in its order) are read in a session of their own, as
    the response is sent."""
    config = request.app.state.db_config

    async def chunks() -> AsyncIterator[bytes]:
        async with config.get_session() as session:
            rows = [row async for row in export_rows(session, filters, limit)]
            for line in csv_lines(COLUMNS, rows):
                yield line.encode()

    filename = f"atlaas-{date.today().isoformat()}.csv"
    return Stream(
        chunks(), media_type=CSV_MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
