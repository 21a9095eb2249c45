"""The session cookie: HttpOnly, SameSite=Lax, Secure over HTTPS (or behind a trusted proxy that
says so)."""

from __future__ import annotations

from fastapi import Request, Response
from worksample.settings import Settings
from worksample.web.deps import SESSION_COOKIE


def set_session_cookie(
    response: Response, request: Request, settings: Settings, token: str, max_age: int
) -> None:
    secure = settings.cookie_secure
    if secure is None:
        # The scheme is a trusted proxy's X-Forwarded-Proto, or the connection's.
        secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
