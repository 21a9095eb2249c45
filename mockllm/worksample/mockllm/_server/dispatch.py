"""The ASGI entry of the mock: the hot API routes skip FastAPI's middleware and router.

A warm chat completion costs the mock about as much as FastAPI's middleware stack
(error and telemetry middleware, body limit, exception middleware, exit stack)
and its router (included routers are matched route by route) cost together, and
none of them does anything for the API routes: those are plain Starlette
endpoints, and `run_exchange` answers every error itself. So a ``POST`` to one
of those exact paths goes straight to its endpoint, behind the same
`ServerErrorMiddleware` (a bug still answers ``500 Internal Server Error``);
everything else (admin, models, health, unknown paths, other methods) takes
the ordinary FastAPI path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

__all__ = ["MockApp"]

Endpoint = Callable[[Request], Awaitable[Response]]


class MockApp(FastAPI):
    """A FastAPI app that serves the ``POST`` routes added by `add_direct` directly."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._direct: dict[str, Endpoint] = {}
        self._direct_app = ServerErrorMiddleware(self._serve_direct, debug=self.debug)

    def add_direct(self, router: APIRouter) -> None:
        """Include `router`, and serve its fixed-path ``POST`` routes directly."""
        self.include_router(router)
        for route in router.routes:
            if isinstance(route, Route) and route.methods == {"POST"} and "{" not in route.path:
                self._direct[route.path] = route.endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] in self._direct
            and not scope.get("root_path")
            and not self.root_path
        ):
            scope["app"] = self
            await self._direct_app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def _serve_direct(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._direct[scope["path"]](Request(scope, receive, send))
        await response(scope, receive, send)
