"""The collection query of the API conventions: `limit`, `offset`, `sort=field|-field`, `q`.

One dependency for every list endpoint, turned into advanced-alchemy filters so that services
call `list_and_count` the same way everywhere."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, cast

import msgspec
from advanced_alchemy.filters import LimitOffset, OrderBy, StatementFilter
from litestar import MediaType, Response
from litestar.di import Provide
from litestar.params import Parameter
from sqlalchemy import Integer, Select, Subquery, bindparam, func, select

from crm.lib.problems import invalid

T = TypeVar("T")

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

    def order(self, sortable: frozenset[str], default_sort: str) -> tuple[str, bool]:
        """The field to sort on and whether in reverse (`-field`); a field off the list is a 400."""
        sort = self.sort or default_sort
        field = sort.lstrip("-")
        if field not in sortable:
            raise invalid("sort", f"cannot sort on {field!r}; choose one of {', '.join(sorted(sortable))}")
        return field, sort.startswith("-")

    def filters(self, sortable: frozenset[str], default_sort: str) -> list[StatementFilter]:
        field, descending = self.order(sortable, default_sort)
        return [
            OrderBy(field_name=field, sort_order="desc" if descending else "asc"),
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


def list_query(sortable: Iterable[str]) -> Provide:
    """The listing dependency of an endpoint that knows its sort fields: the OpenAPI document lists
    them (each, and each reversed with -) and a value off the list is a 400 like any bad parameter,
    instead of a parameter the document calls free text that the service then refuses."""
    fields = sorted(set(sortable))
    choices = tuple(value for field in fields for value in (field, f"-{field}"))
    sort_type: Any = Literal[choices]  # type: ignore[valid-type]

    def provide_sorted_list_query(
        limit: int = 25, offset: int = 0, sort: str | None = None, q: str | None = None
    ) -> ListQuery:
        return provide_list_query(limit=limit, offset=offset, sort=sort, q=q)

    # Litestar reads the parameters from the annotations: the shared ones, with `sort` an enum.
    annotations: dict[str, Any] = dict(provide_list_query.__annotations__)
    if isinstance(annotations.get("limit"), str):  # postponed annotations: evaluate them once
        from typing import get_type_hints

        annotations = get_type_hints(provide_list_query, include_extras=True)
    annotations["sort"] = Annotated[
        sort_type | None, Parameter(description=f"Field to sort on, prefixed with - to reverse: {', '.join(fields)}")
    ]
    provider: Callable[..., ListQuery] = provide_sorted_list_query
    provider.__annotations__ = annotations
    return Provide(provider, sync_to_thread=False)


def page(items: list[Any], total: int, query: ListQuery) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": query.limit, "offset": query.offset}


def json_response(content: Any) -> Response[Any]:
    """`content` (plain dicts, lists, UUIDs, dates, enums) encoded once by msgspec, for the
    busiest reads: building pydantic read shapes only for Litestar to dump them again cost more
    than the page's SQL. The handler still declares its read shape (`Response[Page[X]]`), so the
    OpenAPI document is unchanged; the shape is the service's to keep, field for field
    (tests/test_api_fuzz.py checks every answer against the document)."""
    return Response(content=_encode(content), media_type=MediaType.JSON)


_encode = msgspec.json.Encoder().encode


# ---- a page in one statement, built once per shape --------------------------------------------

_KEPT: dict[Hashable, Any] = {}
_KEPT_AT_MOST = 512


def kept(key: Hashable | None, build: Callable[[], T]) -> T:
    """The statement built for `key` (what decides its SQL: the sort, the search's shape...),
    built by `build` the first time. Building a list's statement cost the API process more than
    running it; the values (page, words typed, day) are bind parameters given at each run.
    `key` None: a statement of its own (filters hold their values), built each time."""
    if key is None:
        return build()
    statement = _KEPT.get(key)
    if statement is None:
        if len(_KEPT) >= _KEPT_AT_MOST:  # shapes are few; a flood of odd ones must not grow it
            _KEPT.clear()
        statement = _KEPT[key] = build()
    return cast(T, statement)


def page_statement(
    columns: Sequence[Any],
    conditions: Sequence[Any],
    order: Sequence[tuple[Any, bool]],
    details: Callable[[Subquery], Select[Any]],
) -> Select[Any]:
    """A page of records in one statement: the `columns` of the records meeting `conditions`, in
    `order` (expression, descending), with their total in a `total` column (a window count: the
    sort reads every match anyway; past the last page no row carries it), then what `details`
    selects for the page's rows only (from the `found` subquery). Its page is given at each run
    (`page_params`)."""
    keys = [expression.label(f"sort_{i}") for i, (expression, _) in enumerate(order)]
    descending = [d for _, d in order]
    found = (
        select(*columns, *keys, func.count().over().label("total"))
        .where(*conditions)
        .order_by(*(k.desc() if d else k.asc() for k, d in zip(keys, descending, strict=True)))
        .limit(bindparam("page_limit", type_=Integer))
        .offset(bindparam("page_offset", type_=Integer))
        .subquery("found")
    )
    outer = [found.c[key.name] for key in keys]
    return details(found).order_by(*(k.desc() if d else k.asc() for k, d in zip(outer, descending, strict=True)))


def page_params(query: ListQuery) -> dict[str, Any]:
    return {"page_limit": query.limit, "page_offset": query.offset}
