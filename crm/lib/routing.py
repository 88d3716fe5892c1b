"""`OPTIONS` answers with the methods a path really has.

Litestar builds the automatic OPTIONS handler of a path when the path's first handler is registered;
when a controller's later handlers join the same path, the route is rebuilt but keeps that first
OPTIONS handler, whose `Allow` still lists only the first handler's methods (e.g. `DELETE, OPTIONS`
for a record that also has GET and PATCH). The 405 answer is right: it reads the routing trie."""

from __future__ import annotations

from typing import Any

from litestar import Response
from litestar.enums import MediaType
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT

AUTO_OPTIONS_HANDLER = "options_handler"


class TrueAllowPlugin(ReceiveRoutePlugin):
    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute) or "OPTIONS" not in route.route_handler_map:
            return
        handler, _ = route.route_handler_map["OPTIONS"]
        if handler.handler_name != AUTO_OPTIONS_HANDLER:
            return  # an OPTIONS handler of our own says what it says
        allow = ", ".join(sorted(route.methods))

        def options_handler(scope: Any) -> Response[None]:
            return Response(
                content=None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allow}, media_type=MediaType.TEXT
            )

        # The handler keeps its signature (one `scope` argument), only what it answers changes.
        handler._fn = options_handler  # type: ignore[assignment]
