"""The session cookie: HttpOnly, SameSite=Lax, Secure behind HTTPS."""

from __future__ import annotations

from fastapi import Request, Response
from worksample.settings import Settings
from worksample.web.deps import SESSION_COOKIE


def set_session_cookie(
    response: Response, request: Request, settings: Settings, token: str, max_age: int
) -> None:
    secure = settings.cookie_secure
    if secure is None:
        secure = (
            request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"
        )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
