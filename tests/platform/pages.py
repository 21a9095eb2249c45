"""What a browser does, for the tests: sign in, open a link, read the CSRF token, upload."""

from __future__ import annotations

import html
import re

import httpx
from factories import PASSWORD
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, func, select
from worksample.db import Invitation, User
from worksample.web.deps import SESSION_COOKIE
from worksample.web.services import auth

_CSRF = re.compile(r'name="csrf(?:-token" content|_token" value)="([^"]+)"')

Client = TestClient | httpx.Client


def text(response: httpx.Response) -> str:
    """The page as a reader sees it: entities decoded (`'` arrives as `&#39;`)."""
    return html.unescape(response.text)


def csrf_of(response: httpx.Response) -> str:
    found = _CSRF.search(response.text)
    assert found, f"no CSRF token on {response.request.url}: {response.text[:300]}"
    return found.group(1)


def log_in(client: Client, email: str, password: str = PASSWORD, **form: str) -> httpx.Response:
    """Through the form, as a browser: the log-in page sets its CSRF cookie first."""
    token = csrf_of(client.get("/login"))
    data = {"email": email, "password": password, "csrf_token": token, **form}
    return client.post("/login", data=data)


def sign_in(client: Client, session: Session, user: User) -> str:
    """A staff session made by the service (no argon2 round trip); returns its CSRF token."""
    established = auth.start_session(session, user=user)
    _set_session_cookie(client, established.token)
    return established.session.csrf_token


def enter_as_candidate(client: Client, session: Session, invitation: Invitation) -> str:
    established = auth.start_session(session, invitation=invitation)
    _set_session_cookie(client, established.token)
    return established.session.csrf_token


def _set_session_cookie(client: Client, token: str) -> None:
    client.cookies.delete(SESSION_COOKIE)  # also one the server set, for its domain
    client.cookies.set(SESSION_COOKIE, token)


def open_link(client: Client, token: str) -> str:
    """Redeem an invitation link like a candidate; returns the session's CSRF token."""
    redeemed = client.get(f"/i/{token}")
    assert redeemed.status_code == 303, redeemed.text
    return csrf_of(client.get("/c"))


def upload(
    client: Client,
    csrf: str | None,
    data: bytes,
    *,
    kind: str = "practice",
    confirm: bool = False,
    filename: str = "solution.zip",
) -> httpx.Response:
    form = {"kind": kind}
    if csrf is not None:
        form["csrf_token"] = csrf
    if confirm:
        form["confirm"] = "true"
    files = {"archive": (filename, data, "application/zip")}
    return client.post("/c/upload", data=form, files=files)


def invite(
    client: Client, csrf: str, position_id: int | None, name: str, email: str = "ann@example.com"
) -> httpx.Response:
    """The position page's "Invite a candidate" form."""
    form = {"csrf_token": csrf, "candidate_email": email, "candidate_name": name}
    return client.post(f"/positions/{position_id}/invitations", data=form)


def count_rows(engine: Engine, *models: type[SQLModel]) -> dict[str, int]:
    with Session(engine) as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in models
        }
