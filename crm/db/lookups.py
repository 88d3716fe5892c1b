"""Names of records by id, in one query per page: what read shapes show beside an id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import select

from crm.db.models.organisation import Organisation
from crm.db.models.person import Person


async def organisation_names(session: Any, ids: Iterable[UUID]) -> dict[UUID, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted)))
    return {row.id: row.name for row in rows}


async def person_names(session: Any, ids: Iterable[UUID]) -> dict[UUID, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(select(Person.id, Person.first_name, Person.last_name).where(Person.id.in_(wanted)))
    return {row.id: f"{row.first_name} {row.last_name}" for row in rows}
