"""Staff log-in (rate-limited), server-side sessions for staff and candidates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, text
from sqlmodel import Session, col, func, select
from worksample.db import (
    LOGIN_HISTORY,
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

# The log-in limit backs off instead of locking. It counts failures for one
# email from one address (the pair), never for the email alone: failures from
# elsewhere must not slow the account's owner down (anyone who knows an
# admin's email could otherwise lock the admin out). A success resets the pair.
# An address trying many emails backs off too, and a success does not reset
# it, or one account of the attacker's own would buy fresh guesses. Past the
# free failures, each attempt waits FIRST_DELAY, doubled for each further
# failure, up to MAX_DELAY, from the last failure.
PAIR_WINDOW = LOGIN_HISTORY  # attempts older than this are pruned
PAIR_FREE_FAILURES = 5
IP_WINDOW = timedelta(hours=1)
IP_FREE_FAILURES = 20
FIRST_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=15)


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class TooManyAttempts(Exception):
    """Refused before the password was checked: wait `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"Too many failed attempts. Try again in {_in_words(retry_after)}.")


@dataclass(frozen=True)
class Established:
    token: str
    session: WebSession


@dataclass(frozen=True)
class _Limit:
    key: str
    window: timedelta
    free_failures: int
    reset_by_success: bool


def authenticate(
    session: Session, *, email: str, password: str, ip: str, now: datetime | None = None
) -> User | None:
    """The active user with this email and password, or None.

    Raises TooManyAttempts while the pair (email and address) or the address
    must wait, without checking the password, so that guessing on during the
    wait cannot confirm a hit. `now` is the clock (tests pass their own)."""
    email = email.strip().lower()
    now = now or utcnow()
    limits = (
        _Limit(f"ip+email:{ip} {email}", PAIR_WINDOW, PAIR_FREE_FAILURES, reset_by_success=True),
        _Limit(f"ip:{ip}", IP_WINDOW, IP_FREE_FAILURES, reset_by_success=False),
    )
    attempts = _reserve_attempt(session, limits, ip=ip, now=now)
    user = session.exec(select(User).where(User.email == email)).first()
    ok = verify_password(password, user.password_hash if user else None)
    ok = ok and user is not None and user.active
    if ok:
        for attempt in attempts:
            attempt.succeeded = True
            session.add(attempt)
        session.commit()
    return user if ok else None


# Held until the transaction ends; another address's lock rarely shares a hash.
_ADDRESS_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


def _reserve_attempt(
    session: Session, limits: tuple[_Limit, ...], *, ip: str, now: datetime
) -> list[LoginAttempt]:
    """This attempt's rows, committed as failures before the (slow) password
    check, so that parallel guesses count each other; a success turns them
    into successes afterwards. Reserving and checking the limit are one
    transaction, serialised per address: on SQLite by its single writer (the
    insert comes first and takes the write lock), on PostgreSQL by an advisory
    lock. A refusal rolls back, leaving no row: waiting is never prolonged by
    asking again."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_ADDRESS_LOCK, {"key": f"login {ip}"})
    attempts = [LoginAttempt(key=limit.key, at=now, succeeded=False) for limit in limits]
    session.add_all(attempts)
    session.flush()
    wait_s = max(
        _wait_s(session, limit, now=now, own=attempt)
        for limit, attempt in zip(limits, attempts, strict=True)
    )
    if wait_s > 0:
        session.rollback()
        raise TooManyAttempts(math.ceil(wait_s))
    session.commit()
    return attempts


def _wait_s(session: Session, limit: _Limit, *, now: datetime, own: LoginAttempt) -> float:
    """Seconds this key must still wait (0 or less: none)."""
    conditions = [
        col(LoginAttempt.key) == limit.key,
        col(LoginAttempt.at) >= now - limit.window,
        col(LoginAttempt.id) != own.id,
    ]
    if limit.reset_by_success:
        last_success = session.exec(
            select(func.max(LoginAttempt.at)).where(
                *conditions, col(LoginAttempt.succeeded).is_(True)
            )
        ).one()
        if last_success is not None:
            conditions.append(col(LoginAttempt.at) > last_success)
    failures, last_failure = session.exec(
        select(func.count(), func.max(LoginAttempt.at)).where(
            *conditions, col(LoginAttempt.succeeded).is_(False)
        )
    ).one()
    if failures < limit.free_failures or last_failure is None:
        return 0.0
    doublings = min(failures - limit.free_failures, 32)  # past the cap anyway
    delay = min(FIRST_DELAY * 2**doublings, MAX_DELAY)
    wait_until: datetime = last_failure + delay
    return (wait_until - now).total_seconds()


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
