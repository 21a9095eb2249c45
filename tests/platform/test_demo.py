"""The demo seed: staff, a position per track, and per exercise candidates at
every stage whose uploads took the candidate's path and wait on the queue.

Seeded from the real exercises (not the small test ones): what a new user of
`scripts/run` sees. One exercise's finals are graded by a real worker in Docker.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from infra import Inbox, free_port, wait_for_serve
from pages import count_rows, log_in, text
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select
from worksample.db import (
    Blob,
    GradingRun,
    Invitation,
    OutboxMail,
    Position,
    RunStatus,
    Submission,
    SubmissionKind,
    utcnow,
)
from worksample.graders import Report, find_exercise, read_directory, read_zip
from worksample.settings import Settings
from worksample.web.services import positions
from worksample.web.services.demo import (
    ADMIN_EMAIL,
    NAMES,
    Seeded,
    faulty_pick,
    seed_demo,
)
from worksample.worker import process_run

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "exercises"
WORKSAMPLE = Path(sys.executable).with_name("worksample")
# Oldest invitation last (the pipeline is newest first): (state, practice uploads).
STAGES = [("invited", 0), ("started", 0), ("started", 1), ("queued", 1), ("queued", 1)]
POSITIONS = {
    "AI Engineer": "ai-rag-handbook",
    "ML Engineer": "ml-churn-pipeline",
    "AI Engineer — Handbook question answering (RAG)": "ai-rag-handbook",
    "AI Engineer — Customer-support agent with tools": "ai-support-agent",
    "ML Engineer — Churn risk pipeline": "ml-churn-pipeline",
}


@pytest.fixture
def demo_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"exercises_dir": EXERCISES})


@pytest.fixture
def seeded(db_session: Session, demo_settings: Settings) -> tuple[Seeded, list[int]]:
    queued: list[int] = []
    return seed_demo(db_session, settings=demo_settings, enqueue=queued.append), queued


def exercise_positions(session: Session) -> list[Position]:
    return [p for p in session.exec(select(Position)) if "—" in p.title]


def uploads(session: Session, invitation: Invitation) -> dict[SubmissionKind, Submission]:
    subs = session.exec(select(Submission).where(Submission.invitation_id == invitation.id))
    return {s.kind: s for s in subs}


def archive_files(session: Session, submission: Submission, exercise_id: str) -> dict[str, bytes]:
    """The upload as the grader reads it: the same intake, the manifest's paths."""
    blob = session.get(Blob, submission.archive_blob_id)
    assert blob is not None
    required = find_exercise(EXERCISES, exercise_id).manifest.submission.required
    return dict(read_zip(blob.data, required=required).files)


def solution_of(files: dict[str, bytes]) -> dict[str, bytes]:
    return {path: data for path, data in files.items() if path.startswith("solution/")}


def test_seeding_creates_every_stage(db_session: Session, seeded: tuple[Seeded, list[int]]) -> None:
    result, _ = seeded
    assert {p.title: p.exercise_id for p in db_session.exec(select(Position))} == POSITIONS
    assert (result.candidates, result.finals) == (15, 6)
    now = utcnow()
    names = []
    for position in exercise_positions(db_session):
        rows = positions.pipeline(db_session, position=position)
        assert [(row.state, row.practice_used) for row in rows] == STAGES, position.title
        for row in rows:
            inv = row.invitation
            names.append(inv.candidate_name)
            assert inv.candidate_email.endswith("@demo.example")
            assert position.created_at < inv.created_at < now < inv.deadline_at
            assert inv.deadline_at == inv.created_at + timedelta(days=position.window_days)
            if row.state == "invited":
                assert inv.opened_at is None and inv.started_at is None
                continue
            assert inv.opened_at is not None and inv.started_at is not None
            assert inv.created_at < inv.opened_at < inv.started_at < now
            dates = [s.created_at for s in uploads(db_session, inv).values()]
            assert all(inv.started_at < at < now for at in dates)
            if row.final is not None:
                assert row.run is not None and not row.run.public_only
                practice = uploads(db_session, inv)[SubmissionKind.practice]
                assert practice.created_at < row.final.created_at
    assert sorted(names) == sorted(NAMES)
    # The track positions keep their one unopened invitation, whose link is printed.
    for title in ("AI Engineer", "ML Engineer"):
        position = db_session.exec(select(Position).where(Position.title == title)).one()
        [row] = positions.pipeline(db_session, position=position)
        assert row.state == "invited"
    assert len(result.candidate_links) == 2


def test_made_up_candidates_get_no_mail_and_their_outbox_copy_is_dated(
    db_session: Session, demo_settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = demo_settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    seed_demo(db_session, settings=settings, enqueue=lambda run_id: None)
    # Only the two track invitations were mailed, as before the demo had candidates.
    assert len(inbox.messages) == 2
    for position in exercise_positions(db_session):
        for row in positions.pipeline(db_session, position=position):
            inv = row.invitation
            [mail] = db_session.exec(select(OutboxMail).where(OutboxMail.to == inv.candidate_email))
            assert mail.status == "outbox" and mail.created_at == inv.created_at
            assert f"Deadline: {inv.deadline_at:%Y-%m-%d %H:%M} UTC" in mail.body
            assert "/i/" in mail.body  # the link, for staff to open the candidate's side


def test_every_run_is_queued_finals_first_cheapest_first(
    db_session: Session, seeded: tuple[Seeded, list[int]]
) -> None:
    result, queued = seeded
    runs = list(db_session.exec(select(GradingRun)))
    assert sorted(queued) == sorted(r.id for r in runs) and queued == result.run_ids
    assert all(r.status == RunStatus.queued and r.attempts == 0 for r in runs)
    by_id = {r.id: r for r in runs}
    kinds = ["practice" if by_id[i].public_only else "final" for i in queued]
    assert kinds == ["final"] * 6 + ["practice"] * 9
    order = []
    for run_id in queued[:6]:
        submission = db_session.get(Submission, by_id[run_id].submission_id)
        assert submission is not None
        invitation = db_session.get(Invitation, submission.invitation_id)
        assert invitation is not None
        position = db_session.get(Position, invitation.position_id)
        assert position is not None
        order.append(position.exercise_id)
    # By the manifests' grading budgets: 600 s, 900 s, 1800 s.
    assert order == ["ai-support-agent"] * 2 + ["ai-rag-handbook"] * 2 + ["ml-churn-pipeline"] * 2


def test_the_uploads_are_the_kit_with_the_solutions_in_it(
    db_session: Session, seeded: tuple[Seeded, list[int]]
) -> None:
    for position in exercise_positions(db_session):
        exercise = find_exercise(EXERCISES, position.exercise_id)
        faulty = faulty_pick(exercise)
        assert faulty is not None
        reference, wrong, starter = (
            solution_of(dict(read_directory(folder).files))
            for folder in (exercise.reference_dir, faulty, exercise.starter_dir)
        )
        assert len({str(reference), str(wrong), str(starter)}) == 3
        got: dict[tuple[int, SubmissionKind], dict[str, bytes]] = {}
        rows = positions.pipeline(db_session, position=position)
        for number, row in enumerate(rows):
            for kind, submission in uploads(db_session, row.invitation).items():
                blob = db_session.get(Blob, submission.archive_blob_id)
                assert blob is not None
                assert submission.sha256 == hashlib.sha256(blob.data).hexdigest()
                assert submission.filename == f"{exercise.id}.zip"
                files = archive_files(db_session, submission, exercise.id)
                # The kit's whole folder, zipped as one: intake strips the wrapper.
                assert "tests/test_public.py" in files and "worksample.toml" in files
                assert "expected.toml" not in files
                got[(number, kind)] = solution_of(files)
        practice, final = SubmissionKind.practice, SubmissionKind.final
        # Newest invitation first: 2 practised only, 3 the faulty final, 4 the reference.
        assert got == {
            (2, practice): wrong,
            (3, practice): starter,
            (3, final): wrong,
            (4, practice): wrong,  # the faulty version, before the fix
            (4, final): reference,
        }, position.title


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_support_agent_finals_are_graded_by_a_real_worker(
    db_session: Session,
    engine: Engine,
    demo_settings: Settings,
    seeded: tuple[Seeded, list[int]],
) -> None:
    """The cheapest exercise's two finals (about 15 s each): the reference scores
    100, the faulty pick fails exactly the tests its expected.toml names."""
    settings = demo_settings.model_copy(update={"grading_backend": "docker"})
    exercise = find_exercise(EXERCISES, "ai-support-agent")
    faulty = faulty_pick(exercise)
    assert faulty is not None
    expected = exercise.faulty()[faulty.name][1].fails
    _, queued = seeded
    for run_id in queued[:2]:
        outcome = process_run(engine, settings=settings, run_id=run_id, worker="test")
        assert outcome.status == "done"
    with Session(engine) as session:
        first, second = (session.get(GradingRun, run_id) for run_id in queued[:2])
        assert first is not None and second is not None
        assert first.status == second.status == RunStatus.graded, (first.reason, second.reason)
        assert first.score == 100.0
        blob = session.get(Blob, second.report_blob_id)
        assert blob is not None
        report = Report.model_validate_json(blob.data)
    assert second.score is not None and second.score < 100.0
    assert sorted(report.failed_ids()) == sorted(expected)


def test_seeding_twice_adds_nothing(
    db_session: Session, engine: Engine, demo_settings: Settings
) -> None:
    queued: list[int] = []
    seed_demo(db_session, settings=demo_settings, enqueue=queued.append)
    tables = [t for t in SQLModel.__subclasses__() if hasattr(t, "__table__")]
    before = count_rows(engine, *tables)
    again = seed_demo(db_session, settings=demo_settings, enqueue=queued.append)
    assert again == Seeded(None, [])
    assert count_rows(engine, *tables) == before
    assert len(queued) == 15


# --- what `worksample serve` prints ----------------------------------------------------


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`worksample serve` on the real exercises, twice on the same data; no
    grading (no embedded worker): only what seeding prints and makes."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "WORKSAMPLE_DATA_DIR": str(tmp_path / "var"),
        "WORKSAMPLE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "WORKSAMPLE_EXERCISES_DIR": str(EXERCISES),
        "WORKSAMPLE_EMBEDDED_WORKER": "false",
    }
    env.pop("WORKSAMPLE_REDIS_URL", None)
    env.pop("WORKSAMPLE_DEMO_ADMIN_PASSWORD", None)
    env.pop("WORKSAMPLE_BASE_URL", None)
    procs: list[subprocess.Popen[bytes]] = []

    def start(log: Path) -> str:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(WORKSAMPLE), "serve", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        procs.append(proc)
        wait_for_serve(proc, f"http://127.0.0.1:{port}", log=log)
        return log.read_text()

    def stop() -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)

    first = start(tmp_path / "first.log")
    try:
        yield first, tmp_path
    finally:
        stop()
    second = start(tmp_path / "second.log")
    stop()
    assert "Demo organisation created" not in second, second
    assert "demo candidates" not in second, second


def test_serve_prints_the_demo_and_its_links_work(serve: tuple[str, Path]) -> None:
    output, _ = serve
    assert "15 demo candidates at every stage; 6 final submissions grading in the background." in (
        output
    ), output
    password = re.search(rf"{re.escape(ADMIN_EMAIL)}\s+password (\S+)", output)
    links = re.findall(r"candidate link: (\S+)", output)
    assert password and len(links) == 2, output
    base = links[0].split("/i/")[0]
    for link in links:
        with httpx.Client(base_url=base) as candidate:
            opened = candidate.get(link)
            assert opened.status_code == 303 and opened.headers["location"] == "/c"
            page = candidate.get("/c")
            assert page.status_code == 200
            assert "Start the clock" in text(page)
    with httpx.Client(base_url=base) as staff:
        assert log_in(staff, ADMIN_EMAIL, password.group(1)).status_code == 303
        listing = text(staff.get("/positions"))
        for title in POSITIONS:
            assert title in listing
        ids = re.findall(r'href="/positions/(\d+)"', staff.get("/positions").text)
        pages = [text(staff.get(f"/positions/{i}")) for i in dict.fromkeys(ids)]
    pipeline = next(p for p in pages if "Priya Natarajan" in p)
    assert pipeline.count(">queued<") == 2 and "Tomás Ferreira" in pipeline
