"""The candidate's file: one page per invitation, for staff.

Who, what happened when (invited, link opened, clock started, each upload and
grading, staff actions, notes, reviews assigned and submitted, decisions),
every upload with its run, what changed from
one upload to the next, and the reviewers' notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import bindparam
from sqlmodel import Session, col, select
from worksample.db import (
    AuditEvent,
    GradingRun,
    Invitation,
    Note,
    Position,
    Review,
    RunStatus,
    Submission,
    SubmissionKind,
    User,
)
from worksample.web.services import audit, decisions, rubric_reviews
from worksample.web.services.code import submission_files
from worksample.web.services.decisions import DecisionView
from worksample.web.services.diffs import FileChange, changes
from worksample.web.services.errors import Invalid, NotFound
from worksample.web.text import OneLine


@dataclass(frozen=True)
class Upload:
    submission: Submission
    number: int  # 1 for the first upload of the invitation
    run: GradingRun | None
    previous: Submission | None
    changes: list[FileChange] | None  # None: the archive could not be read

    @property
    def lines_added(self) -> int:
        return sum(c.added_lines for c in self.changes or ())

    @property
    def lines_removed(self) -> int:
        return sum(c.removed_lines for c in self.changes or ())


@dataclass(frozen=True)
class Event:
    at: datetime
    what: str
    detail: str = ""
    # What the event links to (the page builds the URL): an upload's code, a
    # run's report, a note's line.
    submission_id: int | None = None
    run_id: int | None = None
    note: NoteView | None = None
    upload: Submission | None = None  # its file name is shown through `who` (blind positions)


@dataclass(frozen=True)
class NoteView:
    note: Note
    author: str
    submission_number: int | None

    @property
    def anchor(self) -> str:
        """Where the note points, in words."""
        note = self.note
        if note.path and note.line:
            return f"{note.path}, line {note.line}"
        if note.path:
            return note.path
        if note.test_id:
            return f"test {note.test_id}"
        return "the candidate's work"


@dataclass(frozen=True)
class CandidateFile:
    invitation: Invitation
    position: Position
    uploads: list[Upload]  # oldest first
    events: list[Event]  # oldest first
    notes: list[NoteView]  # newest first
    decisions: list[DecisionView]  # the standing one first

    @property
    def final(self) -> Upload | None:
        return next((u for u in self.uploads if u.submission.kind == SubmissionKind.final), None)


# The page's queries, built once (building a statement costs more than running
# it on these small, indexed reads): who, the uploads with their runs, the notes.
_HEAD = (
    select(Invitation, Position)
    .join(Position, col(Position.id) == Invitation.position_id)
    .where(col(Invitation.id) == bindparam("id"), col(Invitation.org_id) == bindparam("org_id"))
)
_UPLOADS = (
    select(Submission, GradingRun)
    .outerjoin(GradingRun, col(GradingRun.submission_id) == Submission.id)
    .where(col(Submission.invitation_id) == bindparam("invitation_id"))
    .order_by(col(Submission.id), col(GradingRun.id))
)
_REVIEWS = (
    select(Review, User.name)
    .join(User, col(User.id) == Review.reviewer_id)
    .where(col(Review.invitation_id) == bindparam("invitation_id"))
    .order_by(col(Review.id))
)
_NOTES = (
    select(Note, User.name)
    .join(User, col(User.id) == Note.author_id)
    .where(col(Note.invitation_id) == bindparam("invitation_id"))
    .order_by(col(Note.id).desc())
)


def candidate_file(
    session: Session, *, user: User, invitation_id: int, exercises_dir: Path
) -> CandidateFile:
    """The page of an invitation of the user's organisation (another's is not
    found): in seven indexed queries, the session's own included."""
    head = session.exec(_HEAD, params={"id": invitation_id, "org_id": user.org_id}).first()
    if head is None:
        raise NotFound
    invitation, position = head
    submissions: list[Submission] = []
    runs: dict[int, list[GradingRun]] = {}
    for submission, run in session.exec(_UPLOADS, params={"invitation_id": invitation.id}):
        if not submissions or submissions[-1].id != submission.id:
            submissions.append(submission)
        if run is not None:
            runs.setdefault(submission.id or 0, []).append(run)
    uploads = []
    before = None
    previous: Submission | None = None
    for number, submission in enumerate(submissions, start=1):
        try:
            files = submission_files(
                session, submission, exercises_dir=exercises_dir, exercise_id=position.exercise_id
            )
            changed: list[FileChange] | None = changes(before, files)
        except Invalid:
            files, changed = None, None
        latest = runs.get(submission.id or 0, [])
        uploads.append(
            Upload(submission, number, latest[-1] if latest else None, previous, changed)
        )
        before, previous = files, submission
    numbers = {u.submission.id: u.number for u in uploads}
    notes = _notes(session, invitation, numbers)
    decided = decisions.history(session, invitation)
    events = _events(session, invitation, uploads, runs, notes, decided)
    events += _review_events(session, user, invitation)
    events.sort(key=lambda e: e.at)
    return CandidateFile(invitation, position, uploads, events, notes, decided)


def _notes(
    session: Session, invitation: Invitation, numbers: dict[int | None, int]
) -> list[NoteView]:
    rows = session.exec(_NOTES, params={"invitation_id": invitation.id})
    return [NoteView(note, name, numbers.get(note.submission_id)) for note, name in rows]


_ACTIONS = {
    "invitation.create": "Invited",
    "invitation.resend": "Link resent (the old one and its sessions ended)",
    "invitation.extend": "Deadline extended",
    "invitation.revoke": "Invitation revoked",
}


_STAFF_ACTIONS = (
    select(AuditEvent)
    .where(
        col(AuditEvent.org_id) == bindparam("org_id"),
        col(AuditEvent.target) == bindparam("target"),
        col(AuditEvent.action).in_(list(_ACTIONS)),
    )
    .order_by(col(AuditEvent.id))
)


def _events(
    session: Session,
    invitation: Invitation,
    uploads: list[Upload],
    runs: dict[int, list[GradingRun]],
    notes: list[NoteView],
    decided: list[DecisionView],
) -> list[Event]:
    events: list[Event] = []
    staff_actions = session.exec(
        _STAFF_ACTIONS,
        params={"org_id": invitation.org_id, "target": f"invitation:{invitation.id}"},
    )
    invited_by = ""
    for action in staff_actions:
        if action.action == "invitation.create":
            invited_by = action.actor
            continue
        events.append(
            Event(action.at, _ACTIONS[action.action], f"by {action.actor} {action.detail}")
        )
    events.append(Event(invitation.created_at, "Invited", f"by {invited_by}" if invited_by else ""))
    if invitation.opened_at:
        events.append(Event(invitation.opened_at, "Opened the link"))
    if invitation.started_at:
        events.append(Event(invitation.started_at, "Started the clock"))
    for upload in uploads:
        submission = upload.submission
        what = (
            "Submitted the final version"
            if submission.kind == SubmissionKind.final
            else f"Uploaded practice run {upload.number}"
        )
        events.append(
            Event(submission.created_at, what, submission_id=submission.id, upload=submission)
        )
        for run in runs.get(submission.id or 0, []):
            if run.finished_at is None:
                continue
            events.append(Event(run.finished_at, *_run_event(run), run_id=run.id))
    for view in notes:
        events.append(Event(view.note.created_at, f"Note by {view.author}", view.anchor, note=view))
    for made in decided:
        told = " · the candidate was emailed" if made.decision.mail_id else ""
        what = f"Decision: {made.decision.outcome.value}"
        events.append(
            Event(
                made.decision.created_at, what, f"by {made.decider}: {made.decision.reason}{told}"
            )
        )
    return events


def _review_events(session: Session, user: User, invitation: Invitation) -> list[Event]:
    """When each review was taken on and submitted; not its scores, which the
    reviews panel shows to those who may see them, nor (to them) who else
    reviews while the user's own review is open."""
    events = []
    found = list(session.exec(_REVIEWS, params={"invitation_id": invitation.id}))
    own = next((r for r, _ in found if r.reviewer_id == user.id), None)
    named = not rubric_reviews.hidden_reason(user, own)
    for review, name in found:
        reviewer = name if named or review is own else "another reviewer"
        how = "Took on a review" if review.assigned_by == review.reviewer_id else "Review assigned"
        events.append(Event(review.created_at, how, f"reviewer {reviewer}"))
        if review.submitted_at is not None:
            events.append(Event(review.submitted_at, "Review submitted", f"by {reviewer}"))
    return events


def _run_event(run: GradingRun) -> tuple[str, str]:
    if run.status == RunStatus.graded and run.score is not None:
        what = "Graded on the public tests" if run.public_only else "Graded"
        return (what, f"{run.score:.1f} / 100")
    if run.status == RunStatus.rejected:
        return ("Rejected", run.reason)
    return ("Grading failed", run.reason)


class NoteCreate(BaseModel):
    body: str = Field(min_length=1, max_length=5000)
    submission_id: int | None = Field(None, ge=1, le=2**63 - 1)
    path: str | None = Field(None, max_length=1000)  # a file's path in the archive, as is
    line: int | None = Field(None, ge=1, le=10_000_000)
    test_id: OneLine | None = Field(None, max_length=500)

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("write something")
        return value.strip()

    @field_validator("path", "test_id", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value


def add_note(session: Session, *, user: User, invitation: Invitation, data: NoteCreate) -> Note:
    """Any staff role may write one; anchored where `data` says, within this invitation."""
    if data.submission_id is not None:
        submission = session.get(Submission, data.submission_id)
        if submission is None or submission.invitation_id != invitation.id:
            raise Invalid("that submission is not this candidate's")
    elif data.path or data.test_id:
        raise Invalid("a note on a file or a test names its submission")
    if data.line is not None and not data.path:
        raise Invalid("a note on a line names its file")
    note = Note(
        org_id=invitation.org_id,
        invitation_id=invitation.id or 0,
        submission_id=data.submission_id,
        path=data.path,
        line=data.line,
        test_id=data.test_id,
        author_id=user.id or 0,
        body=data.body,
    )
    session.add(note)
    session.flush()
    anchor = NoteView(note, user.name, None).anchor
    audit.record(
        session,
        org_id=user.org_id,
        actor=user.email,
        action="note.create",
        target=f"invitation:{invitation.id}",
        detail=f"note {note.id} on {anchor}",
    )
    session.commit()
    session.refresh(note)
    return note


def notes_on(
    session: Session, *, submission: Submission, path: str | None = None
) -> list[NoteView]:
    """The notes on one submission (on one of its files, with `path`), oldest first."""
    query = (
        select(Note, User.name)
        .join(User, col(User.id) == Note.author_id)
        .where(Note.submission_id == submission.id)
        .order_by(col(Note.line), col(Note.id))
    )
    if path is not None:
        query = query.where(Note.path == path)
    return [NoteView(note, name, None) for note, name in session.exec(query)]
