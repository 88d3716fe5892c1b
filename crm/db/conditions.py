"""A rule written once for both sides: on a loaded row it answers True or False, in a query it is
a SQL condition. SQLAlchemy's `hybrid_method` does the work; this only tells the type checker that
the query side is a `ColumnElement[bool]` (taking plain values or SQL), which `where()` and advanced-alchemy's filters take."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, overload

from sqlalchemy import ColumnElement
from sqlalchemy.ext.hybrid import hybrid_method

P = ParamSpec("P")


class condition(hybrid_method[P, bool]):
    if TYPE_CHECKING:

        @overload
        # The query side also takes SQL for its arguments (a day as `current_date`, a bind
        # parameter): its parameters are not the row side's.
        def __get__(self, instance: None, owner: type[object]) -> Callable[..., ColumnElement[bool]]: ...

        @overload
        def __get__(self, instance: object, owner: type[object]) -> Callable[P, bool]: ...

        def __get__(self, instance: object, owner: type[object]) -> Any: ...
