"""What reviewers read: submissions per position and their reports."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select
from worksample.graders import Report
from worksample.web.models import GradingRun, Invitation, Position, Submission, User
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
    rows = []
    query = (
        select(Submission, Invitation)
        .join(Invitation, col(Invitation.id) == Submission.invitation_id)
        .where(Invitation.position_id == position.id)
        .order_by(col(Submission.id).desc())
    )
    for submission, invitation in session.exec(query):
        run = session.exec(
            select(GradingRun)
            .where(GradingRun.submission_id == submission.id)
            .order_by(col(GradingRun.id).desc())
        ).first()
        rows.append(ReviewRow(submission, invitation, run))
    return rows


def report_for_staff(session: Session, *, user: User, run_id: int) -> ReportView:
    run = session.get(GradingRun, run_id)
    if run is None or run.org_id != user.org_id:
        raise NotFound
    submission = session.get(Submission, run.submission_id)
    invitation = session.get(Invitation, submission.invitation_id) if submission else None
    position = session.get(Position, invitation.position_id) if invitation else None
    if submission is None or invitation is None or position is None:
        raise NotFound
    return ReportView(run, submission, invitation, position, load_report(session, run))
