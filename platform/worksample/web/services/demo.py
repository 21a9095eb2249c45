"""Demo data for the embedded default: an organisation, staff, a position per track,
and per exercise a position with fictional candidates at every stage.

The candidates' uploads take the candidate's own path (`submissions.accept_upload`),
zipped as a candidate zips the kit's folder, and their runs are queued like any
upload's: seeding grades nothing itself. Where grading cannot run (no Docker), the
runs end as errors staff can see and retry, as a real candidate's would.
"""

from __future__ import annotations

import io
import logging
import secrets
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from sqlmodel import Session, col, select
from worksample.db import (
    Organisation,
    OutboxMail,
    Position,
    Role,
    Submission,
    SubmissionKind,
    User,
    utcnow,
)
from worksample.graders import (
    Exercise,
    build_starter_kit,
    list_exercise_dirs,
    load_exercise,
    read_directory,
)
from worksample.settings import Settings
from worksample.web.security import hash_password
from worksample.web.services import invitations, positions, submissions

DEMO_ORG = "Demo Company"
ADMIN_EMAIL = "admin@demo.example"
REVIEWER_EMAIL = "reviewer@demo.example"
CANDIDATE_DOMAIN = "demo.example"
WINDOW_DAYS = 7
READING_BRIEF = timedelta(minutes=12)  # from opening the link to starting the clock

# The faulty solution each exercise's demo candidate submits: points lost in a way
# a reviewer can discuss with them (leakage behind a perfect self-reported score,
# refunds without the business's checks, a prompt injection obeyed), and public
# tests that pass, as a final version tried out first would. Any other exercise:
# its first faulty solution.
FAULTY_PICK = {
    "ml-churn-pipeline": "leaky_closure_date",
    "ai-support-agent": "unguarded-tools",
    "ai-rag-handbook": "injection_obeyed",
}

# Fictional people, five per exercise position.
NAMES = (
    "Priya Natarajan",
    "Tomás Ferreira",
    "Amara Okafor",
    "Lukas Brenner",
    "Hana Kobayashi",
    "Sofia Marchetti",
    "Jonas Lindqvist",
    "Leila Haddad",
    "Mateo Rojas",
    "Ingrid Solberg",
    "Rahul Venkatesan",
    "Chloé Dubois",
    "Kofi Mensah-Boateng",
    "Yuki Morimoto",
    "Elena Vasquez-Hart",
)

Work = Literal["starter", "reference", "faulty"]


@dataclass(frozen=True)
class _Upload:
    kind: SubmissionKind
    work: Work  # what is over the kit: nothing yet, the reference, the faulty solution
    after: timedelta  # after the clock started


@dataclass(frozen=True)
class _Stage:
    invited: timedelta  # before seeding
    started: timedelta | None = None  # after the invitation; None: link not opened
    uploads: tuple[_Upload, ...] = ()


def _hours(hours: float) -> timedelta:
    return timedelta(hours=hours)


_PRACTICE, _FINAL = SubmissionKind.practice, SubmissionKind.final
# Oldest invitation first, so that the pipeline (newest first) reads in date order.
STAGES = (
    # The faulty solution tried first, fixed, the reference submitted: a diff to read.
    _Stage(
        _hours(5 * 24),
        _hours(30),
        (_Upload(_PRACTICE, "faulty", _hours(2.2)), _Upload(_FINAL, "reference", _hours(3.1))),
    ),
    # The kit as downloaded, to see the upload work; later the faulty solution, final.
    _Stage(
        _hours(4 * 24),
        _hours(40),
        (_Upload(_PRACTICE, "starter", _hours(0.4)), _Upload(_FINAL, "faulty", _hours(3.3))),
    ),
    _Stage(_hours(3 * 24), _hours(26), (_Upload(_PRACTICE, "faulty", _hours(2)),)),
    _Stage(_hours(2 * 24), _hours(20)),  # the clock runs, nothing uploaded
    _Stage(_hours(24)),  # invited, link not opened
)


@dataclass(frozen=True)
class Seeded:
    admin_password: str | None  # None when the demo existed already
    candidate_links: list[str]
    candidates: int = 0  # at every stage, in the exercises' positions
    finals: int = 0  # final submissions queued for grading
    run_ids: list[int] = field(default_factory=list)  # in the order queued


def seed_demo(session: Session, *, settings: Settings, enqueue: Callable[[int], None]) -> Seeded:
    """The demo, once: nothing when its admin exists. `enqueue` is the app's queue
    (`GradingQueue.enqueue`); every upload's run goes on it, finals first."""
    if session.exec(select(User).where(User.email == ADMIN_EMAIL)).first() is not None:
        return Seeded(None, [])
    password = (
        settings.demo_admin_password.get_secret_value()
        if settings.demo_admin_password
        else secrets.token_urlsafe(12)
    )
    admin = _seed_staff(session, password)
    exercises = [load_exercise(path) for path in list_exercise_dirs(settings.exercises_dir)]
    links = []
    seen_tracks: set[str] = set()
    for exercise in exercises:
        track = exercise.manifest.track
        if track in seen_tracks:
            continue
        seen_tracks.add(track)
        position = _create_position(session, admin, settings, exercise, _track_title(track))
        _, token = invitations.invite(
            session,
            user=admin,
            position=position,
            settings=settings,
            data=invitations.InvitationCreate(
                candidate_email=f"candidate.{track}@{CANDIDATE_DOMAIN}",
                candidate_name=f"Casey Candidate ({track.upper()})",
            ),
        )
        links.append(f"{settings.base_url.rstrip('/')}/i/{token}")

    now = utcnow()
    # Finals before practice runs, cheapest gradings first (the manifest's time
    # budget says which), so that the first reports are there within a minute.
    cost = sorted(range(len(exercises)), key=lambda i: exercises[i].manifest.grading.timeout_s)
    queued: list[tuple[bool, int, int]] = []  # (practice?, cost rank, run id)
    candidates = 0
    for index, exercise in enumerate(exercises):
        title = f"{_track_title(exercise.manifest.track)} — {exercise.manifest.title}"
        position = _create_position(session, admin, settings, exercise, title)
        # Each position's candidates on days of their own; deadlines stay ahead.
        seeded_at = now - _hours(7 * (index % 3))
        position.created_at = seeded_at - STAGES[0].invited - _hours(30)
        session.add(position)
        session.commit()
        for number, stage in enumerate(STAGES):
            name = NAMES[(index * len(STAGES) + number) % len(NAMES)]
            for kind, run_id in _seed_candidate(
                session, admin, settings, exercise, position, stage, name, seeded_at
            ):
                queued.append((kind == SubmissionKind.practice, cost.index(index), run_id))
            candidates += 1
    run_ids = [run_id for *_, run_id in sorted(queued)]
    for run_id in run_ids:
        enqueue(run_id)
    finals = sum(1 for practice, *_ in queued if not practice)
    return Seeded(password, links, candidates, finals, run_ids)


def candidate_zip(exercise: Exercise, work: Path | None) -> bytes:
    """The starter kit's folder with `work` (a solution folder) copied over it,
    zipped as a candidate zips it: the one folder the kit unpacks to."""
    with zipfile.ZipFile(io.BytesIO(build_starter_kit(exercise))) as kit:
        files = {info.filename: kit.read(info) for info in kit.infolist() if not info.is_dir()}
    if work is not None:
        for rel, data in read_directory(work).files.items():
            if rel != "expected.toml":  # the exercise author's, never a candidate's
                files[f"{exercise.id}/{rel}"] = data
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def faulty_pick(exercise: Exercise) -> Path | None:
    """The faulty solution the demo submits (FAULTY_PICK), or None if it has none."""
    faulty = exercise.faulty()
    name = FAULTY_PICK.get(exercise.id)
    if name not in faulty:
        name = next(iter(faulty), None)
    return None if name is None else faulty[name][0]


def _seed_candidate(
    session: Session,
    admin: User,
    settings: Settings,
    exercise: Exercise,
    position: Position,
    stage: _Stage,
    name: str,
    seeded_at: datetime,
) -> list[tuple[SubmissionKind, int]]:
    """One candidate at `stage`: invited, their clock and uploads dated as the
    stage says; the (kind, run id) of their uploads."""
    # Made-up people get no mail: theirs stays in the outbox (their links are
    # there), dated and worded as if sent when they were invited.
    with _quiet_outbox():
        invitation, _ = invitations.invite(
            session,
            user=admin,
            position=position,
            settings=settings.model_copy(update={"smtp_host": None}),
            data=invitations.InvitationCreate(candidate_email=_email(name), candidate_name=name),
        )
    mail = session.exec(
        select(OutboxMail)
        .where(OutboxMail.org_id == admin.org_id, OutboxMail.to == invitation.candidate_email)
        .order_by(col(OutboxMail.id).desc())
    ).first()
    assert mail is not None
    mailed_deadline = invitation.deadline_at
    invitation.created_at = mail.created_at = seeded_at - stage.invited
    invitation.deadline_at = invitation.created_at + timedelta(days=position.window_days)
    mail.body = mail.body.replace(_minutes(mailed_deadline), _minutes(invitation.deadline_at))
    if stage.started is not None:
        invitation.started_at = invitation.created_at + stage.started
        invitation.opened_at = invitation.started_at - READING_BRIEF
    session.add_all([invitation, mail])
    session.commit()
    faulty = faulty_pick(exercise)
    folders = {"starter": None, "reference": exercise.reference_dir, "faulty": faulty}
    runs = []
    for upload in stage.uploads:
        if upload.work == "faulty" and faulty is None:
            continue
        assert invitation.started_at is not None
        run = submissions.accept_upload(
            session,
            invitation=invitation,
            position=position,
            filename=f"{exercise.id}.zip",
            data=candidate_zip(exercise, folders[upload.work]),
            kind=upload.kind,
            confirmed=upload.kind == SubmissionKind.final,
            max_bytes=settings.max_upload_mb << 20,
            required=submissions.required_paths(settings.exercises_dir, exercise.id),
        )
        submission = session.get(Submission, run.submission_id)
        assert submission is not None
        submission.created_at = invitation.started_at + upload.after
        session.add(submission)
        session.commit()
        runs.append((upload.kind, run.id or 0))
    return runs


def _seed_staff(session: Session, password: str) -> User:
    org = Organisation(name=DEMO_ORG)
    session.add(org)
    session.flush()
    admin = User(
        org_id=org.id or 0,
        email=ADMIN_EMAIL,
        name="Ada Admin",
        role=Role.admin,
        password_hash=hash_password(password),
    )
    reviewer = User(
        org_id=org.id or 0,
        email=REVIEWER_EMAIL,
        name="Rey Reviewer",
        role=Role.reviewer,
        password_hash=hash_password(password),
    )
    session.add_all([admin, reviewer])
    session.commit()
    return admin


def _create_position(
    session: Session, admin: User, settings: Settings, exercise: Exercise, title: str
) -> Position:
    return positions.create_position(
        session,
        user=admin,
        exercises_dir=settings.exercises_dir,
        data=positions.PositionCreate(
            title=title,
            level="Senior",
            exercise_id=exercise.id,
            window_days=WINDOW_DAYS,
            practice_runs=3,
            show_score=False,
        ),
    )


@contextmanager
def _quiet_outbox() -> Iterator[None]:
    """Outbox mail unlogged for a while: fifteen demo mails in full would bury
    the few lines `serve` prints."""
    mail_log = logging.getLogger("worksample.mail")
    level = mail_log.level
    mail_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        mail_log.setLevel(level)


def _minutes(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M}"  # as invitation mails give a deadline


def _track_title(track: str) -> str:
    return "ML Engineer" if track == "ml" else "AI Engineer"


def _email(name: str) -> str:
    """priya.natarajan@demo.example; accents dropped (Tomás is tomas)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return f"{plain.lower().replace(' ', '.')}@{CANDIDATE_DOMAIN}"
