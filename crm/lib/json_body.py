"""JSON bodies nested beyond reason are a bad request, not a crash.

msgspec, which Litestar parses JSON bodies with, stops at Python's recursion limit with a
RecursionError (about a thousand levels); Litestar only turns msgspec's DecodeError into a 400,
so `[[[[...]]]]` ten thousand deep answered 500. The app uses this request class instead."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException


class JsonBodyRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError as exc:
            raise ClientException("The JSON body nests too deeply to be read") from exc
