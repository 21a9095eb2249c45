"""A candidate's side: the clock, uploads (practice and final), what they may see."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from worksample.db import (
    Blob,
    GradingRun,
    Invitation,
    Position,
    Submission,
    SubmissionKind,
    utcnow,
)
from worksample.graders import ExerciseError, SubmissionRejected, find_exercise, read_zip
from worksample.web.services.errors import Invalid, NotFound


@dataclass(frozen=True)
class SubmissionView:
    submission: Submission
    run: GradingRun | None


def start_clock(session: Session, *, invitation: Invitation) -> None:
    if invitation.started_at is None:
        invitation.started_at = utcnow()
        session.add(invitation)
        session.commit()


def list_for_invitation(session: Session, *, invitation: Invitation) -> list[SubmissionView]:
    subs = session.exec(
        select(Submission)
        .where(Submission.invitation_id == invitation.id)
        .order_by(col(Submission.id).desc())
    )
    return [SubmissionView(s, latest_run(session, s.id or 0)) for s in subs]


def latest_run(session: Session, submission_id: int) -> GradingRun | None:
    return session.exec(
        select(GradingRun)
        .where(GradingRun.submission_id == submission_id)
        .order_by(col(GradingRun.id).desc())
    ).first()


_OWN_RUN = (
    select(GradingRun, Submission, Blob.sha256)
    .join(Submission, col(Submission.id) == GradingRun.submission_id)
    .outerjoin(Blob, col(Blob.id) == GradingRun.report_blob_id)
    .where(
        col(GradingRun.id) == bindparam("run_id"),
        col(Submission.invitation_id) == bindparam("invitation_id"),
    )
)


@dataclass(frozen=True)
class OwnRun:
    run: GradingRun
    submission: Submission
    report_digest: str | None


def get_own_run(session: Session, *, invitation: Invitation, run_id: int) -> OwnRun:
    """A run of this invitation's own uploads (one query); any other id is not found."""
    row = session.exec(_OWN_RUN, params={"run_id": run_id, "invitation_id": invitation.id}).first()
    if row is None:
        raise NotFound
    return OwnRun(*row)


def practice_left(invitation: Invitation, position: Position) -> int:
    return max(0, position.practice_runs - invitation.practice_used)


def _take_practice_run(session: Session, *, invitation: Invitation, position: Position) -> bool:
    """Count one practice run against the limit, atomically: a conditional
    UPDATE, which PostgreSQL serialises on the row and SQLite on its write lock,
    so of uploads made at the same moment only as many pass as there are runs.
    Part of the caller's transaction: a rollback gives the run back."""
    result = session.execute(
        update(Invitation)
        .where(
            col(Invitation.id) == invitation.id,
            col(Invitation.practice_used) < position.practice_runs,
        )
        .values(practice_used=col(Invitation.practice_used) + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def has_final(session: Session, *, invitation: Invitation) -> bool:
    return (
        session.exec(
            select(Submission.id).where(
                Submission.invitation_id == invitation.id, Submission.kind == SubmissionKind.final
            )
        ).first()
        is not None
    )


def required_paths(exercises_dir: Path, exercise_id: str) -> tuple[str, ...]:
    """The paths an upload for this exercise must hold; none when this host cannot
    read the exercise (the grader then says why, as an infrastructure error).

    Asked on every upload and every code page: the manifest is read again only
    when its file changes (a stat instead of parsing and validating it)."""
    try:
        stamp = (exercises_dir / exercise_id / "exercise.toml").stat()
    except OSError:
        return ()
    return _required(exercises_dir, exercise_id, stamp.st_mtime_ns, stamp.st_size, stamp.st_ino)


@lru_cache(maxsize=64)
def _required(exercises_dir: Path, exercise_id: str, *_stamp: int) -> tuple[str, ...]:
    try:
        return tuple(find_exercise(exercises_dir, exercise_id).manifest.submission.required)
    except ExerciseError:
        return ()


def accept_upload(
    session: Session,
    *,
    invitation: Invitation,
    position: Position,
    filename: str,
    data: bytes,
    kind: SubmissionKind,
    confirmed: bool,
    max_bytes: int,
    required: Sequence[str] = (),
) -> GradingRun:
    """Validate and store an upload with its grading run, all or nothing.

    `required`: the exercise's `manifest.submission.required`, so that an archive
    the grader would refuse (no `solution/` where it belongs) is refused here, at once.
    """
    if invitation.revoked_at is not None:
        raise Invalid("this invitation has been revoked")
    if utcnow() > invitation.deadline_at:
        raise Invalid("the deadline has passed; uploads are closed")
    if invitation.started_at is None:
        raise Invalid("start the clock before uploading")
    if kind == SubmissionKind.final:
        if not confirmed:
            raise Invalid("tick the confirmation box to submit your final version")
        if has_final(session, invitation=invitation):
            raise Invalid("you have already submitted your final version")
    elif practice_left(invitation, position) <= 0:
        raise Invalid("no practice runs left")  # the cheap check; the binding one is below
    if not data:
        raise Invalid("the upload is empty: choose a .zip file")
    if len(data) > max_bytes:
        raise Invalid(f"the upload is larger than {max_bytes // (1 << 20)} MiB")
    try:
        # The same intake the grader uses; nothing is stored if it refuses.
        read_zip(data, required=required)
    except SubmissionRejected as exc:
        raise Invalid(str(exc)) from exc
    if kind == SubmissionKind.practice and not _take_practice_run(
        session, invitation=invitation, position=position
    ):
        session.rollback()
        raise Invalid("no practice runs left")
    digest = hashlib.sha256(data).hexdigest()
    blob = Blob(sha256=digest, size=len(data), media_type="application/zip", data=data)
    session.add(blob)
    session.flush()
    submission = Submission(
        org_id=invitation.org_id,
        invitation_id=invitation.id or 0,
        kind=kind,
        archive_blob_id=blob.id or 0,
        filename=(filename or "submission.zip")[-255:],
        sha256=digest,
        size=len(data),
    )
    session.add(submission)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Invalid("you have already submitted your final version") from exc
    run = GradingRun(
        org_id=invitation.org_id,
        submission_id=submission.id or 0,
        public_only=kind == SubmissionKind.practice,
    )
    session.add(run)
    session.commit()
    session.refresh(run)
    return run
