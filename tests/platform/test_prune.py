"""Old log-in attempts and ended sessions are deleted, hourly, by the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select
from worksample.db import (
    LOGIN_HISTORY,
    LoginAttempt,
    Pruned,
    WebSession,
    prune_auth,
    utcnow,
)
from worksample.settings import Settings
from worksample.web.security import new_token, token_hash
from worksample.web.services import auth
from worksample.worker.queue import make_queue

HOUR = timedelta(hours=1)


def add_attempts(session: Session, now: datetime) -> None:
    for label, age in (("old", timedelta(days=1, seconds=1)), ("live", 23 * HOUR)):
        session.add(LoginAttempt(key=f"ip:{label}", at=now - age, succeeded=False))
    session.commit()


def add_web_session(
    session: Session, label: str, *, created: datetime, expires: datetime, revoked: bool = False
) -> None:
    session.add(
        WebSession(
            token_hash=token_hash(new_token()),
            csrf_token=label,
            created_at=created,
            expires_at=expires,
            revoked=revoked,
        )
    )


def add_web_sessions(session: Session, now: datetime) -> None:
    day = timedelta(days=1)
    add_web_session(session, "live", created=now - HOUR, expires=now + 11 * HOUR)
    add_web_session(session, "expired lately", created=now - 2 * day, expires=now - 23 * HOUR)
    add_web_session(session, "expired long ago", created=now - 3 * day, expires=now - 25 * HOUR)
    add_web_session(
        session, "revoked lately", created=now - 23 * HOUR, expires=now + 29 * day, revoked=True
    )
    # A candidate's 30-day session revoked at some point after its first day.
    add_web_session(
        session, "revoked long ago", created=now - 2 * day, expires=now + 28 * day, revoked=True
    )
    session.commit()


def remaining(session: Session) -> tuple[set[str], set[str]]:
    session.expire_all()
    keys = set(session.exec(select(LoginAttempt.key)))
    labels = set(session.exec(select(WebSession.csrf_token)))
    return keys, labels


def test_prune_deletes_old_attempts_and_ended_sessions(db_session: Session) -> None:
    now = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    add_attempts(db_session, now)
    add_web_sessions(db_session, now)
    assert prune_auth(db_session, now=now) == Pruned(login_attempts=1, web_sessions=2)
    assert remaining(db_session) == (
        {"ip:live"},
        {"live", "expired lately", "revoked lately"},
    )
    assert prune_auth(db_session, now=now) == Pruned(login_attempts=0, web_sessions=0)


def test_the_limit_never_looks_further_back_than_what_is_kept() -> None:
    """Pruning must not change what the log-in limit decides."""
    assert max(auth.PAIR_WINDOW, auth.IP_WINDOW) <= LOGIN_HISTORY


def test_the_queue_prunes_every_hour(settings: Settings, engine: Engine) -> None:
    queue = make_queue(settings, engine)
    on_the_hour = datetime(2026, 3, 2, 4, 0)

    def due(at: datetime) -> dict[str, Any]:
        return {task.name: task for task in queue.huey.read_periodic(at)}

    assert "prune_auth" in due(on_the_hour)
    assert "prune_auth" not in due(on_the_hour + timedelta(minutes=30))
    with Session(engine) as session:
        now = utcnow()
        add_attempts(session, now)
        add_web_sessions(session, now)
        due(on_the_hour)["prune_auth"].execute()
        assert remaining(session) == (
            {"ip:live"},
            {"live", "expired lately", "revoked lately"},
        )
