"""Dependencies, as `Annotated` aliases: settings, database session, who is asking.

They are `async def` on purpose though they call the database synchronously:
FastAPI runs each plain `def` dependency in its own hop to the thread pool, and
these are one query by a unique index. A plain `def` route then runs in one
thread hop; the pages polled or reloaded most are `async def` and take none.
The database calls on the event loop are why middleware.InFlightLimit exists.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from sqlmodel import Session
from worksample.db import Invitation, User, WebSession
from worksample.settings import Settings
from worksample.web.security import same
from worksample.web.services.auth import Visitor, find_visitor

SESSION_COOKIE = "ws_session"

# A row id in a path: what the databases' 64-bit keys can hold. Anything else
# (0, negative, 2**63 and above, which the drivers refuse with an overflow)
# names no row, and is the same 404 as an unknown id (the app's handler of
# path validation errors).
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class LoginRequired(Exception):
    """Raised for anonymous staff pages; answered with a redirect to /login."""


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_db(request: Request) -> AsyncIterator[Session]:
    with Session(request.app.state.engine) as session:
        request.state.db = session  # for render's `who` (services/identity.py)
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_db)]


async def get_visitor(request: Request, db: SessionDep) -> Visitor | None:
    visitor = find_visitor(db, request.cookies.get(SESSION_COOKIE))
    request.state.web_session = visitor.session if visitor else None  # for the CSRF token
    return visitor


VisitorDep = Annotated[Visitor | None, Depends(get_visitor)]


async def get_web_session(visitor: VisitorDep) -> WebSession | None:
    return visitor.session if visitor else None


WebSessionDep = Annotated[WebSession | None, Depends(get_web_session)]


async def get_current_user(visitor: VisitorDep) -> User:
    if visitor is None or visitor.user is None or not visitor.user.active:
        raise LoginRequired
    return visitor.user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_candidate(visitor: VisitorDep) -> Invitation:
    if visitor is None or visitor.session.invitation_id is None:
        raise HTTPException(403, "Open the personal link from your invitation email.")
    invitation = visitor.invitation
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
