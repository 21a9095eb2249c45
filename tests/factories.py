"""Plain factory functions: rows with sensible defaults, any field overridable.

Each takes the SQLModel session first and commits, so the row has its id and
the app (another session, maybe another thread) sees it at once.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import zipfile
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from argon2 import PasswordHasher
from sqlmodel import Session
from worksample.db import (
    Blob,
    GradingRun,
    Invitation,
    Organisation,
    Position,
    Role,
    RunStatus,
    Submission,
    SubmissionKind,
    User,
    utcnow,
)
from worksample.web.security import new_token, token_hash

EXERCISES = Path(__file__).parent / "graders" / "exercises"
MINI_ADD = EXERCISES / "mini-add"
PASSWORD = "correct horse battery staple"
_serial = itertools.count(1)
T = TypeVar("T")


# The app's argon2id parameters make one verification cost a good fraction of
# a second, on purpose, and the tests log in hundreds of times: users made here
# get argon2id at its lowest cost (a hash carries its own parameters). The
# app's own hashing is tested by logging in as the demo seed's admin.
_cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@lru_cache
def _password_hash(password: str) -> str:
    return _cheap.hash(password)


def _save(session: Session, row: T) -> T:
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def make_org(session: Session, **overrides: Any) -> Organisation:
    fields: dict[str, Any] = {"name": f"Org {next(_serial)}"} | overrides
    return _save(session, Organisation(**fields))


def make_user(
    session: Session,
    org: Organisation,
    *,
    role: Role = Role.admin,
    password: str = PASSWORD,
    **overrides: Any,
) -> User:
    n = next(_serial)
    fields: dict[str, Any] = {
        "org_id": org.id,
        "email": f"{role.value}.{n}@org{org.id}.example",
        "name": f"{role.value.replace('_', ' ').title()} {n}",
        "role": role,
        "password_hash": _password_hash(password),
    } | overrides
    return _save(session, User(**fields))


def make_position(session: Session, org: Organisation, **overrides: Any) -> Position:
    fields: dict[str, Any] = {
        "org_id": org.id,
        "title": f"ML Engineer {next(_serial)}",
        "level": "Senior",
        "track": "ml",
        "exercise_id": "mini-add",
        "window_days": 7,
        "practice_runs": 3,
        "show_score": False,
    } | overrides
    return _save(session, Position(**fields))


def make_invitation(
    session: Session,
    position: Position,
    *,
    started: bool = True,
    revoked: bool = False,
    **overrides: Any,
) -> tuple[Invitation, str]:
    """An invitation and its raw link token (only the hash is stored)."""
    token = new_token()
    n = next(_serial)
    now = utcnow()
    fields: dict[str, Any] = {
        "org_id": position.org_id,
        "position_id": position.id,
        "candidate_email": f"candidate.{n}@example.com",
        "candidate_name": f"Candidate {n}",
        "token_hash": token_hash(token),
        "deadline_at": now + timedelta(days=position.window_days),
        "started_at": now if started else None,
        "revoked_at": now if revoked else None,
    } | overrides
    return _save(session, Invitation(**fields)), token


def make_submission_zip(
    files: dict[str, str | bytes] | None = None, *, solution: Path | None = None
) -> bytes:
    """A zip of `files`, by default mini-add's reference solution (or `solution`)."""
    if files is None:
        source = solution or MINI_ADD / "reference" / "solution.py"
        files = {"solution.py": source.read_bytes()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def make_submission(
    session: Session,
    invitation: Invitation,
    *,
    kind: SubmissionKind = SubmissionKind.final,
    data: bytes | None = None,
    **overrides: Any,
) -> Submission:
    data = make_submission_zip() if data is None else data
    digest = hashlib.sha256(data).hexdigest()
    blob = _save(
        session, Blob(sha256=digest, size=len(data), media_type="application/zip", data=data)
    )
    fields: dict[str, Any] = {
        "org_id": invitation.org_id,
        "invitation_id": invitation.id,
        "kind": kind,
        "archive_blob_id": blob.id,
        "filename": "solution.zip",
        "sha256": digest,
        "size": len(data),
    } | overrides
    if kind == SubmissionKind.practice:  # as the upload service counts it
        invitation.practice_used += 1
        session.add(invitation)
    return _save(session, Submission(**fields))


def make_run(
    session: Session,
    submission: Submission,
    *,
    status: RunStatus = RunStatus.queued,
    **overrides: Any,
) -> GradingRun:
    fields: dict[str, Any] = {
        "org_id": submission.org_id,
        "submission_id": submission.id,
        "public_only": submission.kind == SubmissionKind.practice,
        "status": status,
    } | overrides
    return _save(session, GradingRun(**fields))
