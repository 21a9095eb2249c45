"""Positions: a role's title, level, track and exercise, and its pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, ValidationInfo, field_validator
from sqlmodel import Session, col, select
from worksample.db import (
    Decision,
    GradingRun,
    Invitation,
    Position,
    Review,
    ReviewStatus,
    Role,
    Submission,
    SubmissionKind,
    User,
)
from worksample.graders import ExerciseError, find_exercise
from worksample.web.services import audit
from worksample.web.services.errors import Forbidden, Invalid, NotFound
from worksample.web.text import OneLine

MANAGERS = (Role.admin, Role.hiring_manager)


class PositionCreate(BaseModel):
    # The title reaches invitation emails' Subject: one line, checked here.
    title: OneLine = Field(max_length=200)
    level: OneLine = Field(max_length=50)
    exercise_id: str = Field(min_length=1, max_length=64)
    window_days: int = Field(ge=1, le=60)
    practice_runs: int = Field(ge=0, le=20)
    show_score: bool = False
    blind: bool = False

    @field_validator("title", "level")
    @classmethod
    def _not_blank(cls, value: str, info: ValidationInfo) -> str:
        shortest = 2 if info.field_name == "title" else 1
        if len(value) < shortest:
            raise ValueError(f"must be at least {shortest} characters (not counting spaces)")
        return value


@dataclass(frozen=True)
class PipelineRow:
    invitation: Invitation
    state: str
    final: Submission | None
    run: GradingRun | None
    practice_used: int
    decision: Decision | None  # the standing one
    reviews: tuple[int, int] = (0, 0)  # of the final: (submitted, all)


def require_manager(user: User) -> None:
    if user.role not in MANAGERS:
        raise Forbidden("only admins and hiring managers may do this")


def create_position(
    session: Session, *, user: User, data: PositionCreate, exercises_dir: Path
) -> Position:
    require_manager(user)
    try:
        exercise = find_exercise(exercises_dir, data.exercise_id)
    except ExerciseError as exc:
        raise Invalid(f"unknown exercise {data.exercise_id!r}") from exc
    position = Position(
        org_id=user.org_id,
        title=data.title,
        level=data.level,
        track=exercise.manifest.track,
        exercise_id=exercise.id,
        window_days=data.window_days,
        practice_runs=data.practice_runs,
        show_score=data.show_score,
        blind=data.blind,
    )
    session.add(position)
    session.flush()
    audit.record(
        session,
        org_id=user.org_id,
        actor=user.email,
        action="position.create",
        target=f"position:{position.id}",
        detail=position.title,
    )
    session.commit()
    session.refresh(position)
    return position


def list_positions(session: Session, *, user: User) -> list[Position]:
    query = select(Position).where(Position.org_id == user.org_id).order_by(col(Position.id).desc())
    return list(session.exec(query))


def get_position(session: Session, *, user: User, position_id: int) -> Position:
    position = session.get(Position, position_id)
    if position is None or position.org_id != user.org_id:
        raise NotFound
    return position


def pipeline(session: Session, *, position: Position) -> list[PipelineRow]:
    """Every invitation of the position with its final, that final's latest run
    the standing decision and its reviews: five queries whatever the number of candidates
    (it was two per candidate: 5.8 s at p95 with 200 of them, benchmarks/web.py)."""
    invitations = list(
        session.exec(
            select(Invitation)
            .where(Invitation.position_id == position.id)
            .order_by(col(Invitation.id).desc())
        )
    )
    finals: dict[int, Submission] = {}
    if invitations:
        for sub in session.exec(
            select(Submission).where(
                col(Submission.invitation_id).in_([inv.id for inv in invitations]),
                Submission.kind == SubmissionKind.final,
            )
        ):
            finals[sub.invitation_id] = sub
    runs: dict[int, GradingRun] = {}
    if finals:
        for found in session.exec(
            select(GradingRun)
            .where(col(GradingRun.submission_id).in_([s.id for s in finals.values()]))
            .order_by(col(GradingRun.id))
        ):
            runs[found.submission_id] = found  # the latest wins
    decisions: dict[int, Decision] = {}
    if invitations:
        for decision in session.exec(
            select(Decision)
            .where(col(Decision.invitation_id).in_([inv.id for inv in invitations]))
            .order_by(col(Decision.id))
        ):
            decisions[decision.invitation_id] = decision  # the latest stands
    reviewed: dict[int, tuple[int, int]] = {}
    if finals:
        for submission_id, status in session.exec(
            select(Review.submission_id, Review.status).where(
                col(Review.submission_id).in_([s.id for s in finals.values()])
            )
        ):
            done, count = reviewed.get(submission_id, (0, 0))
            reviewed[submission_id] = (done + (status == ReviewStatus.submitted), count + 1)
    rows = []
    for inv in invitations:
        final = finals.get(inv.id or 0)
        run = runs.get(final.id or 0) if final is not None else None
        if inv.revoked_at:
            state = "revoked"
        elif final is not None:
            state = run.status.value if run else "submitted"
        elif inv.started_at:
            state = "started"
        else:
            state = "invited"
        rows.append(
            PipelineRow(
                inv,
                state,
                final,
                run,
                inv.practice_used,
                decisions.get(inv.id or 0),
                reviewed.get(final.id or 0, (0, 0)) if final is not None else (0, 0),
            )
        )
    return rows
