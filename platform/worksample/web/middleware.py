"""Security headers on every response; the error page for what nothing else
caught; a cap on request bodies; a cap on requests in flight."""

from __future__ import annotations

import asyncio
import logging

from fastapi import HTTPException
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from worksample.web.rendering import render

log = logging.getLogger("worksample.web")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'"
)


# No powerful feature is used by any page: all of them off, for embedded content too.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "fullscreen",
        "geolocation", "gyroscope", "magnetometer", "microphone", "midi", "payment",
        "publickey-credentials-get", "screen-wake-lock", "usb", "xr-spatial-tracking",
    )
)  # fmt: skip
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Plain ASGI (not BaseHTTPMiddleware, which costs a task and a stream per request).

    HSTS only over HTTPS (the scheme a trusted proxy reported, see
    `Settings.trusted_proxies`): over plain HTTP a browser ignores it anyway."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["X-Frame-Options"] = "DENY"
                headers["Permissions-Policy"] = PERMISSIONS_POLICY
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Cross-Origin-Resource-Policy"] = "same-origin"
                if https:
                    headers["Strict-Transport-Security"] = HSTS
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)


class ErrorPage:
    """An exception nothing else handled: logged, and answered with the error
    page (inside SecurityHeaders, so with every header), not Starlette's bare
    text outside every middleware. After the response has started there is
    nothing left to answer with: the exception goes on to the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            if started:
                raise
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            page = render(
                Request(scope),
                "error.html",
                {"status": 500, "message": "Something went wrong on our side. It is logged; "
                 "please try again in a moment."},
                status_code=500,
            )  # fmt: skip
            await page(scope, receive, send)


class InFlightLimit:
    """At most `limit` requests past this point at once; the rest wait their turn.

    Each request holds one database connection from its first query until the
    response is sent. With more requests in flight than the pool has
    connections, those waiting for a connection can hold every worker thread
    while those holding one wait for a thread: nothing moves until the pool
    times out. So requests queue here, cheaply, before they take either.
    Static files take neither and pass by."""

    def __init__(self, app: ASGIApp, *, limit: int, exempt_prefix: str = "/static/") -> None:
        self.app = app
        self.limit = limit
        self.exempt_prefix = exempt_prefix
        # A semaphore belongs to one event loop; tests may serve one app from several.
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefix):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.limit))
        async with self._slots[1]:
            await self.app(scope, receive, send)


class BodyLimit:
    """Refuse a request body larger than `max_bytes` while it arrives.

    The multipart parser spools files to disk whatever their size, so the cap
    has to come first: a declared length is refused before a byte is read, a
    chunked body as soon as it passes the cap."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, message: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.message = message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            page = render(
                Request(scope),
                "error.html",
                {"status": 413, "message": self.message},
                status_code=413,
            )
            await page(scope, receive, send)
            return
        seen = 0

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                # Reaches the app's error page: FastAPI passes HTTPException on.
                raise HTTPException(413, self.message)
            return message

        await self.app(scope, capped, send)
