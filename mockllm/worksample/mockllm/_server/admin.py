"""The admin API for the trusted grader: scenario, request log, counters.

Every admin route wants ``Authorization: Bearer <admin token>``; anything else,
the candidate's API key included, gets the same 404 as a path that does not
exist, so the admin side cannot even be discovered from the sandbox.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import ValidationError
from starlette.responses import JSONResponse
from worksample.mockllm._scenario import Scenario
from worksample.mockllm._server.state import MockState

__all__ = ["ADMIN_PREFIX", "build_admin_router"]

ADMIN_PREFIX = "/_admin"


def build_admin_router(state: MockState, token: str) -> APIRouter:
    """Admin routes guarded by `token`."""

    def _require_token(request: Request) -> None:
        header = request.headers.get("authorization", "")
        sent = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not hmac.compare_digest(sent.encode(), token.encode()):
            raise HTTPException(status_code=404, detail="Not Found")

    router = APIRouter(prefix=ADMIN_PREFIX, dependencies=[Depends(_require_token)])

    @router.post("/scenario")
    async def load_scenario(request: Request) -> JSONResponse:
        try:
            scenario = Scenario.model_validate_json(await request.body())
        except ValidationError as exc:
            detail = exc.errors(include_url=False, include_context=False)
            return JSONResponse({"detail": detail}, status_code=422)
        state.load(scenario)
        return JSONResponse({"loaded": scenario.name})

    @router.get("/scenario")
    async def read_scenario() -> Any:
        state.sync()
        return state.scenario.model_dump(mode="json")

    @router.post("/reset")
    async def reset() -> Any:
        state.reset()
        return {"reset": True}

    @router.get("/requests")
    async def requests(since: Annotated[int, Query(ge=0)] = 0, endpoint: str | None = None) -> Any:
        records = state.log.records(since=since, endpoint=endpoint)
        return {"requests": [r.model_dump(mode="json") for r in records]}

    @router.get("/counters")
    async def counters() -> Any:
        return state.log.counters().model_dump(mode="json")

    return router
