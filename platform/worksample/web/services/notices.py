"""A notice for the next page a session sees, shown once.

Used for what must reach its reader but not stay: a new invitation's link for
the person who made it, when no email took it (hiring managers cannot open the
outbox, and without SMTP they would have no way to pass the link on). It lives
in the session's row until the page that shows it is rendered, never in a URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session
from worksample.db import WebSession


@dataclass(frozen=True)
class NewLink:
    candidate_name: str
    position_title: str
    # Empty when the mail server took the email: then the link is kept nowhere,
    # this notice included, and the notice only says it went out.
    link: str


def leave(session: Session, web: WebSession, notice: NewLink) -> None:
    """Part of the caller's transaction."""
    web.notice = json.dumps(notice.__dict__)
    session.add(web)


def take(session: Session, web: WebSession | None) -> NewLink | None:
    """The session's notice, cleared (committed) as it is taken."""
    if web is None or not web.notice:
        return None
    try:
        notice = NewLink(**json.loads(web.notice))
    except (ValueError, TypeError):
        notice = None
    web.notice = ""
    session.add(web)
    session.commit()
    return notice
