"""The application factory of the mock LLM server."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response
from worksample.mockllm._server.admin import build_admin_router
from worksample.mockllm._server.dispatch import MockApp
from worksample.mockllm._server.exchange import Answer, Exchange, run_exchange
from worksample.mockllm._server.log import RequestLog
from worksample.mockllm._server.shared import SharedLog, read_scenario
from worksample.mockllm._server.state import MockState
from worksample.mockllm._settings import MockSettings
from worksample.mockllm._wire.anthropic.routes import build_anthropic_router
from worksample.mockllm._wire.errors import MockError, Provider
from worksample.mockllm._wire.openai.routes import build_openai_router

__all__ = ["create_app"]


def _build_state(settings: MockSettings) -> MockState:
    if settings.shared_dir is None:
        in_memory = RequestLog(settings.log_limit, settings.log_max_bytes)
        return MockState(settings.scenario, log=in_memory)
    log = SharedLog(settings.shared_dir, settings.log_limit, settings.log_max_bytes)
    scenario = read_scenario(settings.shared_dir)
    return MockState(scenario, log=log, shared_dir=settings.shared_dir)


def create_app(settings: MockSettings | None = None) -> FastAPI:
    """A server with its own state, set up by `settings` (defaults: the extractive model,
    key ``sk-mock-candidate``, admin API off)."""
    settings = settings or MockSettings()
    state = _build_state(settings)
    api_key = settings.api_key.get_secret_value()
    app = MockApp(title="worksample mock LLM", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.mock = state
    app.add_direct(build_openai_router(state, api_key))
    app.add_direct(build_anthropic_router(state, api_key))
    if settings.admin_token is not None:
        app.include_router(build_admin_router(state, settings.admin_token.get_secret_value()))

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def unknown(request: Request, rest: str) -> Response:
        provider: Provider = "anthropic" if "anthropic-version" in request.headers else "openai"

        async def handler(exchange: Exchange, body: Any) -> Answer:
            if provider == "anthropic":
                raise MockError(404, "Not Found")
            raise MockError(404, f"Invalid URL ({request.method} {request.url.path})")

        return await run_exchange(
            request, provider=provider, endpoint="unknown", state=state, api_key=api_key,
            handler=handler,
        )  # fmt: skip

    return app
