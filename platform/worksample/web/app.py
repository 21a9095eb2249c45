"""The FastAPI application factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from worksample.db import REQUESTS_IN_FLIGHT, make_engine, migrate
from worksample.settings import Settings, get_settings
from worksample.web.assets import mount_assets
from worksample.web.deps import LoginRequired
from worksample.web.middleware import BodyLimit, ErrorPage, InFlightLimit, SecurityHeaders
from worksample.web.rendering import render
from worksample.web.routes import (
    agreement,
    auth,
    candidate,
    catalogue,
    code,
    compare,
    reviews,
    similarity,
    staff,
)
from worksample.web.services.errors import Forbidden, Invalid, NotFound
from worksample.worker.queue import make_queue

log = logging.getLogger("worksample.web")


def create_app(settings: Settings, *, start_worker: bool | None = None) -> FastAPI:
    engine = make_engine(settings.effective_database_url)
    queue = make_queue(settings, engine)
    embedded = settings.embedded_worker if start_worker is None else start_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with queue.embedded_consumer() if embedded else nullcontext():
            # What exists now (modules, templates, the app) lives as long as the
            # process: out of the collector's sight, a full collection takes a few
            # ms instead of ~100 ms, which every request in flight used to wait.
            gc.freeze()
            try:
                yield
            finally:
                engine.dispose()

    migrate(settings.effective_database_url)
    app = FastAPI(
        title="worksample", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.queue = queue
    # The extra MiB is room for the form around the largest accepted upload.
    app.add_middleware(
        BodyLimit,
        max_bytes=(settings.max_upload_mb + 1) << 20,
        message=f"The upload is larger than {settings.max_upload_mb} MiB.",
    )
    app.add_middleware(ErrorPage)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(InFlightLimit, limit=REQUESTS_IN_FLIGHT)
    if settings.trusted_proxies:
        # Outermost, so that everything inside sees the client's address and scheme.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    mount_assets(app)
    app.include_router(auth.router)
    app.include_router(reviews.router)  # before staff's /invitations/{id}/{action}
    app.include_router(staff.router)
    app.include_router(candidate.router)
    app.include_router(code.router)
    app.include_router(compare.router)
    app.include_router(similarity.router)
    app.include_router(agreement.router)
    app.include_router(catalogue.router)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if request.headers.get("hx-request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?{urlencode({'next': request.url.path})}", status_code=303)

    # Starlette's class, so that unknown paths and wrong methods get the
    # same page as the app's own errors.
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "message": exc.detail},
            status_code=exc.status_code,
        )

    # FastAPI answers malformed input with JSON; people get a page that says
    # which field. A path id that is not a number names no page at all.
    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError) -> HTMLResponse:
        errors = exc.errors()
        if any(e.get("loc", ("",))[0] == "path" for e in errors):
            return render(
                request, "error.html", {"status": 404, "message": "No such page here."},
                status_code=404,
            )  # fmt: skip
        fields = "; ".join(
            f"{e['loc'][-1] if e.get('loc') else 'request'}: {e.get('msg', 'invalid')}"
            for e in errors
        )
        message = f"The form could not be read ({fields}). Go back, fix it and send it again."
        return render(request, "error.html", {"status": 400, "message": message}, status_code=400)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> HTMLResponse:
        return render(
            request, "error.html", {"status": 404, "message": "No such page here."}, status_code=404
        )

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> HTMLResponse:
        return render(request, "error.html", {"status": 403, "message": str(exc)}, status_code=403)

    @app.exception_handler(Invalid)
    async def _invalid(request: Request, exc: Invalid) -> HTMLResponse:
        return render(request, "error.html", {"status": 400, "message": str(exc)}, status_code=400)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def create_web_worker_app() -> FastAPI:
    """One of `worksample serve --workers N`'s web processes: settings from the
    environment, no grading consumer (the serving process runs the only one)."""
    return create_app(get_settings(), start_worker=False)
