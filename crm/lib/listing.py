"""The collection query of the API conventions: `limit`, `offset`, `sort=field|-field`, `q`.

One dependency for every list endpoint, turned into advanced-alchemy filters so that services
call `list_and_count` the same way everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from advanced_alchemy.filters import LimitOffset, OrderBy, StatementFilter
from litestar.params import Parameter

from crm.lib.problems import invalid

MAX_LIMIT = 500
# Far beyond any table here, and far below what PostgreSQL's OFFSET (a bigint) can take.
MAX_OFFSET = 1_000_000_000
MAX_SEARCH = 200


@dataclass(frozen=True, slots=True)
class ListQuery:
    limit: int
    offset: int
    sort: str | None
    q: str | None

    def filters(self, sortable: frozenset[str], default_sort: str) -> list[StatementFilter]:
        sort = self.sort or default_sort
        field = sort.lstrip("-")
        if field not in sortable:
            raise invalid("sort", f"cannot sort on {field!r}; choose one of {', '.join(sorted(sortable))}")
        return [
            OrderBy(field_name=field, sort_order="desc" if sort.startswith("-") else "asc"),
            LimitOffset(limit=self.limit, offset=self.offset),
        ]


def provide_list_query(
    limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="Page size")] = 25,
    offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description="Rows to skip")] = 0,
    sort: Annotated[
        str | None, Parameter(max_length=100, description="Field to sort on; prefix with - to reverse")
    ] = None,
    q: Annotated[str | None, Parameter(max_length=MAX_SEARCH, description="Search text")] = None,
) -> ListQuery:
    return ListQuery(limit=limit, offset=offset, sort=sort, q=(q or "").strip() or None)


def page(items: list[Any], total: int, query: ListQuery) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": query.limit, "offset": query.offset}
