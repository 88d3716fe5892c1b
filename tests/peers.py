"""Where a test request comes from: the TCP peer the server sees, which the test client fixes at
"testclient". Rate limits and known addresses need real, distinct addresses."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient


def connect_from(client: AsyncTestClient[Any], address: str) -> None:
    """Every later request of `client` reaches the app from `address`, as a socket would."""
    transport: Any = client._transport
    parse = type(transport).parse_request

    def parse_from(request: Any) -> Any:
        scope = parse(transport, request)
        scope["client"] = (address, 50000)
        return scope

    transport.parse_request = parse_from
