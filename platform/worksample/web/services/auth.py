"""Staff log-in (rate-limited), server-side sessions for staff and candidates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select
from worksample.db import (
    Invitation,
    LoginAttempt,
    Position,
    User,
    WebSession,
    utcnow,
)
from worksample.web.security import new_token, token_hash, verify_password

STAFF_SESSION = timedelta(hours=12)
CANDIDATE_SESSION = timedelta(days=30)
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 20


class TooManyAttempts(Exception):
    pass


@dataclass(frozen=True)
class Established:
    token: str
    session: WebSession


def authenticate(session: Session, *, email: str, password: str, ip: str) -> User | None:
    email = email.strip().lower()
    since = utcnow() - LOGIN_WINDOW
    for key, limit in (
        (f"email:{email}", MAX_FAILURES_PER_EMAIL),
        (f"ip:{ip}", MAX_FAILURES_PER_IP),
    ):
        failures = session.exec(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.key == key,
                col(LoginAttempt.at) >= since,
                col(LoginAttempt.succeeded).is_(False),
            )
        ).one()
        if failures >= limit:
            raise TooManyAttempts
    user = session.exec(select(User).where(User.email == email)).first()
    ok = verify_password(password, user.password_hash if user else None)
    ok = ok and user is not None and user.active
    for key in (f"email:{email}", f"ip:{ip}"):
        session.add(LoginAttempt(key=key, succeeded=ok))
    session.commit()
    return user if ok else None


def start_session(
    session: Session,
    *,
    user: User | None = None,
    invitation: Invitation | None = None,
    replaces: WebSession | None = None,
) -> Established:
    """A new session (a new token every time: log-in rotates the session).

    The session the browser held before (`replaces`) is revoked, so a token
    planted or seen before log-in is worth nothing afterwards."""
    if replaces is not None:
        replaces.revoked = True
        session.add(replaces)
    token = new_token()
    lifetime = STAFF_SESSION if user else CANDIDATE_SESSION
    web = WebSession(
        token_hash=token_hash(token),
        csrf_token=new_token(),
        user_id=user.id if user else None,
        invitation_id=invitation.id if invitation else None,
        expires_at=utcnow() + lifetime,
    )
    session.add(web)
    session.commit()
    session.refresh(web)
    return Established(token=token, session=web)


@dataclass(frozen=True)
class Visitor:
    """A live web session, with its staff user or its invitation and position."""

    session: WebSession
    user: User | None
    invitation: Invitation | None
    position: Position | None


# Built once (building and keying a statement costs more than running it), and
# with what every page asks for next, in the same query.
_VISITOR = (
    select(WebSession, User, Invitation, Position)
    .outerjoin(User, col(User.id) == WebSession.user_id)
    .outerjoin(Invitation, col(Invitation.id) == WebSession.invitation_id)
    .outerjoin(Position, col(Position.id) == Invitation.position_id)
    .where(col(WebSession.token_hash) == bindparam("token_hash"))
)


def find_visitor(session: Session, token: str | None) -> Visitor | None:
    """Who holds this session cookie: None for no, an unknown, a revoked or an
    expired session. The rows stay in `session` (its identity map), so
    `session.get` finds them without another query while the Visitor lives."""
    if not token:
        return None
    row = session.exec(_VISITOR, params={"token_hash": token_hash(token)}).first()
    if row is None:
        return None
    web, user, invitation, position = row
    if web.revoked or web.expires_at <= utcnow():
        return None
    return Visitor(web, user, invitation, position)


def end_session(session: Session, web: WebSession) -> None:
    web.revoked = True
    session.add(web)
    session.commit()


def revoke_invitation_sessions(session: Session, invitation_id: int) -> None:
    for web in session.exec(select(WebSession).where(WebSession.invitation_id == invitation_id)):
        web.revoked = True
        session.add(web)
