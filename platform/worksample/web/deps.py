"""Dependencies, as `Annotated` aliases: settings, database session, who is asking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session
from worksample.settings import Settings
from worksample.web.models import Invitation, User, WebSession
from worksample.web.security import same
from worksample.web.services.auth import find_session

SESSION_COOKIE = "ws_session"


class LoginRequired(Exception):
    """Raised for anonymous staff pages; answered with a redirect to /login."""


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_db)]


def get_web_session(request: Request, db: SessionDep) -> WebSession | None:
    web = find_session(db, request.cookies.get(SESSION_COOKIE))
    request.state.web_session = web  # templates read its CSRF token
    return web


WebSessionDep = Annotated[WebSession | None, Depends(get_web_session)]


def get_current_user(db: SessionDep, web: WebSessionDep) -> User:
    if web is None or web.user_id is None:
        raise LoginRequired
    user = db.get(User, web.user_id)
    if user is None or not user.active:
        raise LoginRequired
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_candidate(db: SessionDep, web: WebSessionDep) -> Invitation:
    if web is None or web.invitation_id is None:
        raise HTTPException(403, "Open the personal link from your invitation email.")
    invitation = db.get(Invitation, web.invitation_id)
    if invitation is None or invitation.revoked_at is not None:
        raise HTTPException(403, "This invitation has been revoked.")
    return invitation


CurrentCandidate = Annotated[Invitation, Depends(get_candidate)]


async def require_csrf(request: Request, web: WebSessionDep) -> None:
    """Every state-changing request carries the session's CSRF token, as the
    form field `csrf_token` or the `X-CSRF-Token` header (htmx sets it)."""
    if web is None:
        raise HTTPException(403, "Your session has ended; reload the page.")
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not same(sent, web.csrf_token):
        raise HTTPException(403, "The form expired or came from elsewhere; reload and retry.")


CsrfChecked = Depends(require_csrf)
