"""Staff log-in and log-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from worksample.web.deps import SESSION_COOKIE, SessionDep, SettingsDep, WebSessionDep
from worksample.web.rendering import render
from worksample.web.routes._cookies import set_session_cookie
from worksample.web.security import new_token, same
from worksample.web.services import auth

router = APIRouter()
LOGIN_CSRF_COOKIE = "ws_login_csrf"


def safe_next(value: str | None, default: str = "/positions") -> str:
    # Only local paths: never an open redirect. Browsers read a backslash as a
    # slash ("/" + backslash + "host" is "//host") and drop tabs and newlines.
    if (
        value
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and not any(ord(char) < 0x20 or ord(char) == 0x7F for char in value)
    ):
        return value
    return default


@router.get("/")
def home(web: WebSessionDep) -> Response:
    if web and web.invitation_id:
        return RedirectResponse("/c", status_code=303)
    return RedirectResponse("/positions" if web else "/login", status_code=303)


@router.get("/login")
def login_page(
    request: Request, next_path: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    token = new_token()
    response = render(request, "auth/login.html", {"login_csrf": token, "next": next_path or ""})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


@router.post("/login")
def login(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    previous: WebSessionDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    fresh = new_token()

    def again(message: str, status: int) -> Response:
        response = render(
            request,
            "auth/login.html",
            {"login_csrf": fresh, "next": next_path, "error": message, "email": email},
            status_code=status,
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE, fresh, httponly=True, samesite="strict", max_age=3600
        )
        return response

    if not cookie or not same(cookie, csrf_token):
        return again("The form expired; please try again.", 403)
    ip = request.client.host if request.client else "?"
    try:
        user = auth.authenticate(db, email=email, password=password, ip=ip)
    except auth.TooManyAttempts as refused:
        response = again(str(refused), 429)
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    if user is None:
        return again("Wrong email or password.", 401)
    established = auth.start_session(db, user=user, replaces=previous)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    set_session_cookie(
        response, request, settings, established.token, int(auth.STAFF_SESSION.total_seconds())
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request, db: SessionDep, web: WebSessionDep) -> Response:
    # The token comes as a form field or, from htmx, as a header; without the
    # right one (a forged cross-site post) the session stays, only the cookie goes.
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        sent = str((await request.form()).get("csrf_token", ""))
    if web is not None and same(sent, web.csrf_token):
        auth.end_session(db, web)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
