"""The tables. Every staff-owned row carries `org_id`; services scope by it.

Schema changes go through Alembic (`migrations/versions`); a test compares the
migrated schema with these models.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    admin = "admin"
    hiring_manager = "hiring_manager"
    reviewer = "reviewer"


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    graded = "graded"
    rejected = "rejected"
    error = "error"


class Outcome(StrEnum):
    """A hiring team's decision on a candidate."""

    advance = "advance"
    hold = "hold"
    reject = "reject"


class ReviewStatus(StrEnum):
    assigned = "assigned"  # assigned or self-assigned; may hold a draft
    submitted = "submitted"  # final: the reviewer now sees the other reviews


class SubmissionKind(StrEnum):
    practice = "practice"
    final = "final"


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    email: str = Field(max_length=320, unique=True, index=True)
    name: str = Field(max_length=200)
    role: Role
    password_hash: str
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class WebSession(SQLModel, table=True):
    """A server-side session: staff (user_id) or candidate (invitation_id)."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    csrf_token: str = Field(max_length=64)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    invitation_id: int | None = Field(default=None, foreign_key="invitation.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked: bool = False
    # Shown once on this session's next page, then cleared: a new invitation's
    # link for whoever made it (see services/notices.py).
    notice: str = Field(default="", sa_column_kwargs={"server_default": text("''")})


class LoginAttempt(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=400, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    succeeded: bool


class Position(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    title: str = Field(max_length=200)
    level: str = Field(max_length=50)
    track: str = Field(max_length=10)
    exercise_id: str = Field(max_length=64)
    window_days: int
    practice_runs: int
    show_score: bool
    # Reviewers see a pseudonym, not the candidate's name, email or file names,
    # until a decision is recorded (web/services/identity.py).
    blind: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    archived: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Invitation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    position_id: int = Field(foreign_key="position.id", index=True)
    candidate_email: str = Field(max_length=320)
    candidate_name: str = Field(max_length=200)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    deadline_at: datetime
    opened_at: datetime | None = None  # the link first redeemed
    started_at: datetime | None = None
    revoked_at: datetime | None = None
    # Taken by a conditional UPDATE in the upload's transaction, so uploads made
    # at the same moment cannot all pass the limit (see submissions.accept_upload).
    practice_used: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    created_at: datetime = Field(default_factory=utcnow)


class Blob(SQLModel, table=True):
    """Archives and reports, in the database so every worker reaches them."""

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, index=True)
    size: int
    media_type: str = Field(max_length=100)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Submission(SQLModel, table=True):
    # At most one final submission per invitation, enforced by the database so
    # that two simultaneous "submit" clicks cannot both land.
    __table_args__ = (
        Index(
            "uq_submission_final",
            "invitation_id",
            unique=True,
            sqlite_where=text("kind = 'final'"),
            postgresql_where=text("kind = 'final'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    invitation_id: int = Field(foreign_key="invitation.id", index=True)
    kind: SubmissionKind
    archive_blob_id: int = Field(foreign_key="blob.id")
    filename: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    size: int
    created_at: datetime = Field(default_factory=utcnow)


class GradingRun(SQLModel, table=True):
    """The truth about a grading: a lost job or a dead worker is found here."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    public_only: bool
    status: RunStatus = Field(default=RunStatus.queued, index=True)
    attempts: int = 0
    lease_until: datetime | None = None
    worker: str | None = Field(default=None, max_length=200)
    not_before: datetime | None = None
    score: float | None = None
    reason: str = ""
    # The labels of the knock-outs the report names (the manifest's [[critical]]
    # items the work failed), one per line; "" when none.
    knockouts: str = ""
    report_blob_id: int | None = Field(default=None, foreign_key="blob.id")
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class Note(SQLModel, table=True):
    """A reviewer's note on a candidate's work: on the invitation as a whole, or
    anchored to a file and line of one submission, or to one test of its report."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    invitation_id: int = Field(foreign_key="invitation.id", index=True)
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    path: str | None = Field(default=None, max_length=1000)
    line: int | None = None
    test_id: str | None = Field(default=None, max_length=500)
    author_id: int = Field(foreign_key="user.id")
    body: str = Field(max_length=5000)
    created_at: datetime = Field(default_factory=utcnow)


class Decision(SQLModel, table=True):
    """A hiring manager's or admin's decision on an invitation, with its reason
    (for the team; never sent). The latest one stands; the earlier ones stay
    as the history."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    invitation_id: int = Field(foreign_key="invitation.id", index=True)
    outcome: Outcome = Field(max_length=10)
    reason: str = Field(max_length=2000)
    decided_by: int = Field(foreign_key="user.id")
    mail_id: int | None = Field(default=None, foreign_key="outboxmail.id")  # the candidate told
    created_at: datetime = Field(default_factory=utcnow)


class Review(SQLModel, table=True):
    """One reviewer's rubric review of one final submission. Scored against the
    rubric as it was when the review was assigned (`rubric`, the manifest's
    `[rubric]` as JSON), so a later manifest cannot garble it."""

    __table_args__ = (UniqueConstraint("submission_id", "reviewer_id", name="uq_review_reviewer"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    invitation_id: int = Field(foreign_key="invitation.id", index=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    reviewer_id: int = Field(foreign_key="user.id", index=True)
    assigned_by: int = Field(foreign_key="user.id")  # the reviewer when self-assigned
    status: ReviewStatus = Field(default=ReviewStatus.assigned, max_length=10)
    rubric: str = Field(sa_column=Column(Text, nullable=False))
    exercise_hash: str = Field(max_length=64)
    summary: str = Field(default="", max_length=4000)
    total: float | None = None  # the rubric total, 0 to 100, once submitted
    created_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None


class ReviewScore(SQLModel, table=True):
    """A review's level (1 to 4) and comment on one rubric criterion; in a draft,
    either may still be missing."""

    __table_args__ = (UniqueConstraint("review_id", "criterion", name="uq_reviewscore_criterion"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    criterion: str = Field(max_length=40)
    level: int | None = None
    comment: str = Field(default="", max_length=4000)


class SimilarityPrint(SQLModel, table=True):
    """A final submission's similarity fingerprints (worksample.similarity's
    `Fingerprints` as zlib-compressed JSON), taken by the worker after grading so
    that a later final of the same exercise is compared without re-reading it."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    exercise_id: str = Field(max_length=64, index=True)
    submission_id: int = Field(foreign_key="submission.id", unique=True)
    scheme: int
    fingerprints: int  # how many, starter excluded
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class SimilarityPair(SQLModel, table=True):
    """Two finals of one exercise in one organisation that share code: how much
    of each is found in the other and the fragments (`Comparison` as
    zlib-compressed JSON), `a` the later of the two. A reviewer may dismiss a
    flag with a reason; it stays, dismissed, for the record."""

    __table_args__ = (UniqueConstraint("a_id", "b_id", name="uq_similaritypair"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    exercise_id: str = Field(max_length=64)
    a_id: int = Field(foreign_key="submission.id", index=True)
    b_id: int = Field(foreign_key="submission.id", index=True)
    share_a: float
    share_b: float
    fragments: int
    flagged: bool
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    dismissed_by: int | None = Field(default=None, foreign_key="user.id")
    dismissed_reason: str = Field(default="", max_length=2000)
    dismissed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Reveal(SQLModel, table=True):
    """An admin or hiring manager who chose to see who a blind position's candidate is."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    invitation_id: int = Field(foreign_key="invitation.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    actor: str = Field(max_length=320)
    action: str = Field(max_length=100)
    target: str = Field(max_length=200)
    detail: str = ""
    at: datetime = Field(default_factory=utcnow, index=True)


class OutboxMail(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    to: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body: str
    status: str = Field(max_length=20)  # "outbox" (no SMTP), "sent", "failed"
    error: str = ""
    created_at: datetime = Field(default_factory=utcnow)
