"""Clearing out the rows the log-in limit and the sessions leave behind.

Here rather than in the web app because the grading worker runs it (hourly,
from the queue) and must not import the web app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_
from sqlmodel import Session, col
from worksample.db._models import LoginAttempt, WebSession, utcnow

# The furthest back the log-in limit looks (web/services/auth.py); older
# attempts can no longer slow anyone down.
LOGIN_HISTORY = timedelta(days=1)
# A revoked or expired session answers as no session at all, so deleting it is
# safe at any time; a day's grace keeps recent log-outs for whoever debugs one.
ENDED_SESSIONS_KEPT = timedelta(days=1)


@dataclass(frozen=True)
class Pruned:
    login_attempts: int
    web_sessions: int


def prune_auth(session: Session, *, now: datetime | None = None) -> Pruned:
    """Delete log-in attempts older than `LOGIN_HISTORY`, and sessions expired
    more than `ENDED_SESSIONS_KEPT` ago or revoked and created more than that
    ago (a session does not record when it was revoked; created-before is the
    bound it has). Commits."""
    now = now or utcnow()
    ended = now - ENDED_SESSIONS_KEPT
    attempts = session.execute(
        delete(LoginAttempt).where(col(LoginAttempt.at) < now - LOGIN_HISTORY)
    )
    sessions = session.execute(
        delete(WebSession).where(
            or_(
                col(WebSession.expires_at) < ended,
                and_(col(WebSession.revoked).is_(True), col(WebSession.created_at) < ended),
            )
        )
    )
    session.commit()
    return Pruned(
        login_attempts=int(attempts.rowcount),  # type: ignore[attr-defined]
        web_sessions=int(sessions.rowcount),  # type: ignore[attr-defined]
    )
