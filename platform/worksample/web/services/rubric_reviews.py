"""Rubric reviews: people judging a final submission against its exercise's rubric.

A review belongs to one reviewer and one final submission. Any staff member may
take one on (self-assign); an admin or hiring manager may assign one to any
active colleague. The rubric is copied into the review when it is assigned, so
a later manifest cannot change what a review was scored against.

A review is a draft until its reviewer submits it: every criterion needs a
level (1 to 4) and a comment, and the rubric total follows from the weights.
A submitted review is final.

Independence: nobody sees another's draft. Whoever has a review of a final
still open sees no other review of it (not the levels, comments or totals),
only how many there are; once theirs is submitted they see all the submitted
ones. Staff without a review of their own: admins and hiring managers see the
submitted reviews (they decide); reviewers see the count, and may take one on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import bindparam
from sqlmodel import Session, col, select
from worksample.db import (
    Decision,
    GradingRun,
    Invitation,
    Position,
    Review,
    ReviewScore,
    ReviewStatus,
    Submission,
    SubmissionKind,
    User,
    utcnow,
)
from worksample.graders import ExerciseError, Rubric, find_exercise
from worksample.web.services import audit
from worksample.web.services.errors import Forbidden, Invalid, NotFound
from worksample.web.services.positions import MANAGERS, require_manager

__all__ = [
    "Draft",
    "Panel",
    "QueueRow",
    "ReviewView",
    "WaitingRow",
    "assign",
    "get_review",
    "hidden_reason",
    "latest_run",
    "panel",
    "queue",
    "save",
    "waiting",
]

COMMENT_MAX = 4000


@dataclass(frozen=True)
class ReviewView:
    """A review with its rubric (parsed from the snapshot), its scores by
    criterion id and the names of its reviewer and assigner."""

    review: Review
    rubric: Rubric
    scores: dict[str, ReviewScore]
    reviewer: str
    assigner: str

    @property
    def submitted(self) -> bool:
        return self.review.status == ReviewStatus.submitted

    def level(self, criterion_id: str) -> int | None:
        score = self.scores.get(criterion_id)
        return score.level if score else None

    def comment(self, criterion_id: str) -> str:
        score = self.scores.get(criterion_id)
        return score.comment if score else ""


@dataclass(frozen=True)
class Panel:
    """What one staff member may see of a final's reviews."""

    submission: Submission | None  # the final; None: nothing to review yet
    own: ReviewView | None
    shown: list[ReviewView]  # others' submitted reviews this user may read
    submitted: int  # how many reviews are submitted, all reviewers
    open: int  # how many are assigned and not yet submitted
    hidden_reason: str  # why others' reviews are not shown, "" when they are
    colleagues: list[User] = field(default_factory=list)  # assignable (managers only)

    @property
    def table(self) -> list[ReviewView]:
        """The submitted reviews side by side: the user's own first, when submitted."""
        own = [self.own] if self.own is not None and self.own.submitted else []
        return own + self.shown

    @property
    def can_self_assign(self) -> bool:
        return self.submission is not None and self.own is None


def _rubric(review: Review) -> Rubric:
    return Rubric.model_validate_json(review.rubric)


def _final(session: Session, invitation: Invitation) -> Submission | None:
    return session.exec(
        select(Submission).where(
            Submission.invitation_id == invitation.id, Submission.kind == SubmissionKind.final
        )
    ).first()


def assign(
    session: Session,
    *,
    user: User,
    invitation: Invitation,
    exercises_dir: Path,
    reviewer_id: int | None = None,
) -> Review:
    """A review of the invitation's final for `reviewer_id` (an admin's or
    hiring manager's choice) or for the user themselves; audited."""
    final = _final(session, invitation)
    if final is None:
        raise Invalid("there is no final submission to review yet")
    if reviewer_id is None or reviewer_id == user.id:
        reviewer = user
    else:
        require_manager(user)
        found = session.get(User, reviewer_id)
        if found is None or found.org_id != user.org_id or not found.active:
            raise Invalid("choose an active member of your organisation as the reviewer")
        reviewer = found
    taken = session.exec(
        select(Review.id).where(Review.submission_id == final.id, Review.reviewer_id == reviewer.id)
    ).first()
    if taken is not None:
        whose = "you already have" if reviewer is user else f"{reviewer.name} already has"
        raise Invalid(f"{whose} a review of this final")
    position = session.get(Position, invitation.position_id)
    try:
        exercise = find_exercise(exercises_dir, position.exercise_id if position else "")
    except ExerciseError as exc:
        raise Invalid(f"the exercise's rubric cannot be read: {exc}") from exc
    review = Review(
        org_id=invitation.org_id,
        invitation_id=invitation.id or 0,
        submission_id=final.id or 0,
        reviewer_id=reviewer.id or 0,
        assigned_by=user.id or 0,
        rubric=exercise.manifest.rubric.model_dump_json(),
        exercise_hash=exercise.content_hash,
    )
    session.add(review)
    audit.record(
        session,
        org_id=invitation.org_id,
        actor=user.email,
        action="review.assign",
        target=f"invitation:{invitation.id}",
        detail="self-assigned" if reviewer is user else f"to {reviewer.email}",
    )
    session.commit()
    session.refresh(review)
    return review


def get_review(session: Session, *, user: User, review_id: int) -> ReviewView:
    """A review of the user's organisation that the user may read: their own,
    or a submitted one of a final they may see reviews of. Another
    organisation's, a colleague's draft, or one hidden by the independence
    rule is not found (no hint that it exists)."""
    review = session.get(Review, review_id)
    if review is None or review.org_id != user.org_id:
        raise NotFound
    if review.reviewer_id != user.id:
        if review.status != ReviewStatus.submitted:
            raise NotFound
        own = session.exec(
            select(Review).where(
                Review.submission_id == review.submission_id, Review.reviewer_id == user.id
            )
        ).first()
        if hidden_reason(user, own):
            raise NotFound
    return _views(session, [review])[0]


def hidden_reason(user: User, own: Review | None) -> str:
    """Why `user` may not read the other reviews of a final of which `own` is
    theirs (None: they have none); "" when they may."""
    if own is not None and own.status != ReviewStatus.submitted:
        return "Your own review is still open: the others show once you submit it."
    if own is None and user.role not in MANAGERS:
        return "Reviews show to their reviewers once submitted, and to admins and hiring managers."
    return ""


_VIEWS_SCORES = select(ReviewScore).where(
    col(ReviewScore.review_id).in_(bindparam("ids", expanding=True))
)


def _views(session: Session, reviews: list[Review]) -> list[ReviewView]:
    if not reviews:
        return []
    ids = [r.id for r in reviews]
    scores: dict[int, dict[str, ReviewScore]] = {}
    for score in session.exec(_VIEWS_SCORES, params={"ids": ids}):
        scores.setdefault(score.review_id, {})[score.criterion] = score
    people = {r.reviewer_id for r in reviews} | {r.assigned_by for r in reviews}
    names = {u.id: u.name for u in session.exec(select(User).where(col(User.id).in_(people)))}
    return [
        ReviewView(
            r,
            _rubric(r),
            scores.get(r.id or 0, {}),
            names.get(r.reviewer_id, "?"),
            names.get(r.assigned_by, "?"),
        )
        for r in reviews
    ]


def panel(session: Session, *, user: User, invitation: Invitation) -> Panel:
    """The reviews of the invitation's final as `user` may see them (three
    queries, four for a manager: the final, its reviews, their scores and people,
    the colleagues one may assign)."""
    final = _final(session, invitation)
    colleagues: list[User] = []
    if user.role in MANAGERS:
        colleagues = list(
            session.exec(
                select(User)
                .where(User.org_id == user.org_id, col(User.active).is_(True))
                .order_by(col(User.name))
            )
        )
    if final is None:
        return Panel(None, None, [], 0, 0, "", colleagues)
    reviews = list(
        session.exec(
            select(Review).where(Review.submission_id == final.id).order_by(col(Review.id))
        )
    )
    own = next((r for r in reviews if r.reviewer_id == user.id), None)
    hidden = hidden_reason(user, own)
    readable = [own] if own else []
    if not hidden:
        readable += [r for r in reviews if r is not own and r.status == ReviewStatus.submitted]
    views = _views(session, readable)
    own_view = views[0] if own else None
    submitted = sum(r.status == ReviewStatus.submitted for r in reviews)
    reviewed_by = {r.reviewer_id for r in reviews}
    return Panel(
        final,
        own_view,
        views[1:] if own else views,
        submitted,
        len(reviews) - submitted,
        hidden if len(reviews) > (1 if own else 0) else "",
        [c for c in colleagues if c.id not in reviewed_by],
    )


@dataclass(frozen=True)
class Draft:
    """What the review form sent: a level and a comment per criterion, a summary."""

    levels: Mapping[str, str]  # criterion id -> "1".."4" or ""
    comments: Mapping[str, str]
    summary: str = ""


def save(session: Session, *, user: User, review_id: int, draft: Draft, submit: bool) -> ReviewView:
    """Keep the draft, or submit it (every criterion with a level and a comment;
    the rubric total then follows). Only the reviewer, and only while open."""
    review = session.get(Review, review_id)
    if review is None or review.org_id != user.org_id:
        raise NotFound
    if review.reviewer_id != user.id:
        raise Forbidden("only the reviewer may change a review")
    if review.status == ReviewStatus.submitted:
        raise Invalid("this review is submitted, and final")
    rubric = _rubric(review)
    problems: list[str] = []
    levels: dict[str, int | None] = {}
    comments: dict[str, str] = {}
    for criterion in rubric.criteria:
        raw = (draft.levels.get(criterion.id) or "").strip()
        level: int | None = None
        if raw:
            if raw not in {"1", "2", "3", "4"}:
                problems.append(f"{criterion.name}: the level is 1, 2, 3 or 4, not {raw[:10]!r}")
            else:
                level = int(raw)
        comment = (draft.comments.get(criterion.id) or "").strip()
        if len(comment) > COMMENT_MAX:
            problems.append(f"{criterion.name}: the comment is over {COMMENT_MAX} characters")
            comment = comment[:COMMENT_MAX]
        levels[criterion.id], comments[criterion.id] = level, comment
        if submit and level is None:
            problems.append(f"{criterion.name}: choose a level")
        if submit and not comment:
            problems.append(f"{criterion.name}: say why, in a comment")
    summary = draft.summary.strip()
    if len(summary) > COMMENT_MAX:
        problems.append(f"the summary is over {COMMENT_MAX} characters")
    if problems:
        raise Invalid("; ".join(problems))
    existing = {
        s.criterion: s
        for s in session.exec(select(ReviewScore).where(ReviewScore.review_id == review.id))
    }
    for cid, level in levels.items():
        score = existing.get(cid) or ReviewScore(review_id=review.id or 0, criterion=cid)
        score.level, score.comment = level, comments[cid]
        session.add(score)
    review.summary = summary
    if submit:
        review.total = rubric.total({cid: lvl for cid, lvl in levels.items() if lvl is not None})
        review.status = ReviewStatus.submitted
        review.submitted_at = utcnow()
        audit.record(
            session,
            org_id=review.org_id,
            actor=user.email,
            action="review.submit",
            target=f"invitation:{review.invitation_id}",
            detail=f"rubric total {review.total:.1f}",
        )
    session.add(review)
    session.commit()
    session.refresh(review)
    return _views(session, [review])[0]


@dataclass(frozen=True)
class QueueRow:
    review: Review
    invitation: Invitation
    position: Position


def queue(session: Session, *, user: User) -> list[QueueRow]:
    """The user's reviews, open ones first, then the submitted, newest first."""
    rows = session.exec(
        select(Review, Invitation, Position)
        .join(Invitation, col(Invitation.id) == Review.invitation_id)
        .join(Position, col(Position.id) == Invitation.position_id)
        .where(Review.reviewer_id == user.id, Review.org_id == user.org_id)
        .order_by(col(Review.id).desc())
    )
    found = [QueueRow(r, i, p) for r, i, p in rows]
    return sorted(found, key=lambda q: q.review.status == ReviewStatus.submitted)


@dataclass(frozen=True)
class WaitingRow:
    invitation: Invitation
    position: Position
    submission: Submission
    submitted: int  # reviews submitted so far, anyone's


WAITING_LIMIT = 50


def waiting(session: Session, *, user: User) -> list[WaitingRow]:
    """Finals of the organisation without a decision that the user has no
    review of, fewest submitted reviews first, then oldest: what to take on
    next (at most WAITING_LIMIT; two queries)."""
    mine = select(Review.submission_id).where(Review.reviewer_id == user.id)
    decided = select(Decision.invitation_id).where(Decision.org_id == user.org_id)
    rows = list(
        session.exec(
            select(Submission, Invitation, Position)
            .join(Invitation, col(Invitation.id) == Submission.invitation_id)
            .join(Position, col(Position.id) == Invitation.position_id)
            .where(
                Submission.kind == SubmissionKind.final,
                Invitation.org_id == user.org_id,
                col(Invitation.revoked_at).is_(None),
                col(Submission.id).not_in(mine),
                col(Invitation.id).not_in(decided),
            )
            .order_by(col(Submission.id))
        )
    )
    counts: dict[int, int] = {}
    if rows:
        for submission_id in session.exec(
            select(Review.submission_id).where(
                col(Review.submission_id).in_([s.id for s, _, _ in rows]),
                Review.status == ReviewStatus.submitted,
            )
        ):
            counts[submission_id] = counts.get(submission_id, 0) + 1
    found = [WaitingRow(i, p, s, counts.get(s.id or 0, 0)) for s, i, p in rows]
    found.sort(key=lambda w: w.submitted)  # stable: oldest first within a count
    return found[:WAITING_LIMIT]


def latest_run(session: Session, submission_id: int) -> GradingRun | None:
    return session.exec(
        select(GradingRun)
        .where(GradingRun.submission_id == submission_id)
        .order_by(col(GradingRun.id).desc())
    ).first()
