"""What reviewers read: submissions per position and their reports."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from worksample.db import Blob, GradingRun, Invitation, Position, Submission, User
from worksample.graders import Report
from worksample.web.services.errors import NotFound
from worksample.web.services.grading import load_report


@dataclass(frozen=True)
class ReviewRow:
    submission: Submission
    invitation: Invitation
    run: GradingRun | None


@dataclass(frozen=True)
class ReportView:
    run: GradingRun
    submission: Submission
    invitation: Invitation
    position: Position
    report: Report | None


def submissions_for_position(session: Session, *, position: Position) -> list[ReviewRow]:
    """Every submission of the position with its latest run, in two queries."""
    query = (
        select(Submission, Invitation)
        .join(Invitation, col(Invitation.id) == Submission.invitation_id)
        .where(Invitation.position_id == position.id)
        .order_by(col(Submission.id).desc())
    )
    found = list(session.exec(query))
    runs: dict[int, GradingRun] = {}
    if found:
        ids = [submission.id for submission, _ in found]
        latest = select(GradingRun).where(col(GradingRun.submission_id).in_(ids))
        for run in session.exec(latest.order_by(col(GradingRun.id))):
            runs[run.submission_id] = run  # the latest wins
    return [ReviewRow(sub, inv, runs.get(sub.id or 0)) for sub, inv in found]


# SQLAlchemy's select and execute: SQLModel's are typed for at most four columns.
_REPORT_ROWS = (
    sa_select(GradingRun, Submission, Invitation, Position, col(Blob.sha256))
    .join(Submission, col(Submission.id) == GradingRun.submission_id)
    .join(Invitation, col(Invitation.id) == Submission.invitation_id)
    .join(Position, col(Position.id) == Invitation.position_id)
    .outerjoin(Blob, col(Blob.id) == GradingRun.report_blob_id)
    .where(col(GradingRun.id) == bindparam("run_id"), col(GradingRun.org_id) == bindparam("org_id"))
)


def report_for_staff(session: Session, *, user: User, run_id: int) -> ReportView:
    """One query for the run and what it belongs to; another run's id is not found."""
    row = session.execute(_REPORT_ROWS, {"run_id": run_id, "org_id": user.org_id}).first()
    if row is None:
        raise NotFound
    run, submission, invitation, position, digest = row
    report = load_report(session, run, digest=digest)
    return ReportView(run, submission, invitation, position, report)
