"""The grading-run row is the truth, against real queues and real workers.

(a) embedded: the SQLite huey queue and a consumer thread in the web process;
(b) scale-out: PostgreSQL, Redis and two `worksample worker` processes, one of
    them killed with SIGKILL in the middle of a grading;
(c) an infrastructure error: retried with backoff, then an error with its
    reason and a retry button for staff, and the button requeues it.

Grading uses the local backend (mini-add needs no sandbox to be judged; the
Docker sandbox has tests of its own). Every wait polls the row with a deadline.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from factories import (
    MINI_ADD,
    make_invitation,
    make_org,
    make_position,
    make_run,
    make_submission,
    make_submission_zip,
)
from factories import make_user as make_staff
from fastapi import FastAPI
from fastapi.testclient import TestClient
from infra import Database, free_port, wait_for_serve, wait_until
from pages import open_link, sign_in, text, upload
from sqlalchemy import Engine
from sqlmodel import Session, func, select
from worksample.db import (
    AuditEvent,
    Blob,
    GradingRun,
    Organisation,
    Role,
    RunStatus,
    utcnow,
)
from worksample.worker import backoff_s, recover

WORKER = Path(sys.executable).with_name("worksample")


def run_row(engine: Engine, run_id: int) -> GradingRun:
    with Session(engine) as session:
        run = session.get(GradingRun, run_id)
        assert run is not None
        return run


def wait_for_status(
    engine: Engine, run_id: int, statuses: set[RunStatus], *, timeout: float
) -> GradingRun:
    wait_until(
        lambda: run_row(engine, run_id).status in statuses,
        timeout=timeout,
        what=f"run {run_id} to become {'/'.join(sorted(statuses))}",
    )
    return run_row(engine, run_id)


def reports(engine: Engine) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(Blob).where(Blob.media_type == "application/json")
        return session.exec(query).one()


@dataclass
class Setup:
    org: Organisation
    link: str


@pytest.fixture
def invited(db_session: Session) -> Setup:
    org = make_org(db_session)
    _, link = make_invitation(db_session, make_position(db_session, org))
    return Setup(org, link)


def submit_final(client: TestClient, link: str, solution: Path | None = None) -> int:
    csrf = open_link(client, link)
    response = upload(
        client, csrf, make_submission_zip(solution=solution), kind="final", confirm=True
    )
    assert response.status_code == 303, text(response)
    return int(response.headers["location"].rsplit("/", 1)[1])


# --- (a) embedded -------------------------------------------------------------------


def test_embedded_queue_grades_an_upload(
    make_app: Callable[..., FastAPI], invited: Setup, engine: Engine
) -> None:
    app = make_app(start_worker=True)
    with TestClient(app, follow_redirects=False) as client:  # the lifespan starts the consumer
        run_id = submit_final(client, invited.link)
        run = wait_for_status(engine, run_id, {RunStatus.graded}, timeout=90)
        status = client.get(f"/c/runs/{run_id}", headers={"HX-Request": "true"})
    assert run.score == 100.0
    assert run.attempts == 1
    assert run.report_blob_id is not None
    assert run.lease_until is None and run.finished_at is not None
    assert 'badge graded">graded' in status.text
    assert "hx-trigger" not in status.text  # the status stops polling once final


def test_serve_with_its_embedded_worker_stops_on_sigterm(tmp_path: Path) -> None:
    """The embedded consumer must leave the server's signals alone (huey's own
    handlers used to swallow SIGTERM and Ctrl+C: `serve` never stopped)."""
    port = free_port()
    env = {
        **os.environ,
        "WORKSAMPLE_DATA_DIR": str(tmp_path / "var"),
        "WORKSAMPLE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "WORKSAMPLE_EXERCISES_DIR": str(MINI_ADD.parent),
        "WORKSAMPLE_GRADING_BACKEND": "local",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(WORKER), "serve", "--port", str(port), "--no-demo"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_serve(proc, f"http://127.0.0.1:{port}", log=log)
        proc.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal once it has shut down cleanly.
        assert proc.wait(timeout=20) in (0, -signal.SIGTERM), log.read_text()
        assert "All workers have stopped." in log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


# --- (b) scale-out: a worker dies holding a run --------------------------------------------


SLOW_CONFTEST = """
import time

import pytest


@pytest.fixture(scope="session")
def summed(candidate):
    return candidate.run(["python3", "solution.py", "sum", "data/numbers.txt"])


@pytest.fixture(scope="session", autouse=True)
def slow_grading():
    # Long enough to kill the worker that holds the run in the middle of it.
    time.sleep(4)
"""


@pytest.fixture
def slow_exercises(tmp_path: Path) -> Path:
    exercises = tmp_path / "slow-exercises"
    shutil.copytree(MINI_ADD, exercises / "mini-add")
    (exercises / "mini-add" / "hidden" / "conftest.py").write_text(SLOW_CONFTEST)
    return exercises


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Worker]]:
    if not WORKER.exists():
        pytest.fail(f"{WORKER} is missing: run `uv sync` (scripts/test does)")
    started: list[Worker] = []

    def start(env: dict[str, str]) -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(WORKER), "worker"],
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: the kill takes its grader too
            )
        worker = Worker(proc, log)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.proc.poll() is None:
            os.killpg(worker.proc.pid, signal.SIGINT)  # huey: stop after the current task
    for worker in started:
        try:
            worker.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.proc.pid, signal.SIGKILL)
            worker.proc.wait(timeout=10)


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_a_killed_worker_s_run_is_recovered_and_graded_once(
    db: Database,
    redis_url: str,
    make_app: Callable[..., FastAPI],
    start_worker: Callable[[dict[str, str]], Worker],
    slow_exercises: Path,
    invited: Setup,
    engine: Engine,
    tmp_path: Path,
) -> None:
    lease_s = 10
    env = {
        "WORKSAMPLE_DATABASE_URL": db.url,
        "WORKSAMPLE_REDIS_URL": redis_url,
        "WORKSAMPLE_EXERCISES_DIR": str(slow_exercises),
        "WORKSAMPLE_DATA_DIR": str(tmp_path / "worker-var"),
        "WORKSAMPLE_GRADING_LEASE_S": str(lease_s),
        "WORKSAMPLE_GRADING_BACKEND": "local",
    }
    workers = [start_worker(env), start_worker(env)]
    for worker in workers:
        wait_until(
            lambda w=worker: "consumer started" in w.output() or w.proc.poll() is not None,
            timeout=60,
            what="a worker to start consuming",
        )
        assert worker.proc.poll() is None, worker.output()
    app = make_app(redis_url=redis_url, exercises_dir=slow_exercises)
    client = TestClient(app, follow_redirects=False)
    run_id = submit_final(client, invited.link)

    running = wait_for_status(engine, run_id, {RunStatus.running}, timeout=60)
    holder_pid = int(str(running.worker).split(":")[1])
    victim = next(w for w in workers if w.proc.pid == holder_pid)
    survivor = next(w for w in workers if w is not victim)
    os.killpg(victim.proc.pid, signal.SIGKILL)
    victim.proc.wait(timeout=10)
    assert run_row(engine, run_id).status == RunStatus.running  # the dead still holds it

    # Found by its expired lease at the survivor's next sweep (once a minute),
    # then graded by the survivor, 4 s of slow grading included.
    run = wait_for_status(
        engine, run_id, {RunStatus.graded, RunStatus.error}, timeout=lease_s + 60 + 60
    )
    assert run.status == RunStatus.graded, run.reason
    assert run.score == 100.0
    assert run.attempts == 2
    assert int(str(run.worker).split(":")[1]) == survivor.proc.pid
    assert reports(engine) == 1, "graded more than once"
    assert re.search(rf"run {run_id}: lease of \S+ expired, requeued", survivor.output())
    assert survivor.proc.poll() is None


def test_expired_leases_are_requeued_until_the_last_attempt(db_session: Session) -> None:
    """A run whose worker keeps dying ends as an error for staff, not in a loop."""
    org = make_org(db_session)
    invitation, _ = make_invitation(db_session, make_position(db_session, org))
    expired = utcnow() - timedelta(seconds=1)
    dying = dict(status=RunStatus.running, lease_until=expired, worker="host:1:ab")
    submission = make_submission(db_session, invitation)
    once = make_run(db_session, submission, attempts=1, **dying)
    thrice = make_run(db_session, submission, attempts=3, **dying)
    alive = make_run(
        db_session, submission, attempts=1, status=RunStatus.running,
        lease_until=utcnow() + timedelta(minutes=1), worker="host:2:cd",
    )  # fmt: skip
    assert recover(db_session, max_attempts=3) == [once.id]
    db_session.expire_all()
    assert (once.status, once.lease_until) == (RunStatus.queued, None)
    assert thrice.status == RunStatus.error
    assert (
        thrice.reason == "the worker grading it stopped responding (3 attempt(s), last host:1:ab)"
    )
    assert thrice.finished_at is not None
    assert alive.status == RunStatus.running


# --- (c) an infrastructure error ------------------------------------------------------------


def test_an_infrastructure_error_is_retried_then_shown_with_a_retry_button(
    make_app: Callable[..., FastAPI],
    invited: Setup,
    engine: Engine,
    db_session: Session,
    tmp_path: Path,
) -> None:
    exercises = tmp_path / "exercises"
    shutil.copytree(MINI_ADD, exercises / "mini-add")
    app = make_app(start_worker=True, exercises_dir=exercises, grading_max_attempts=2)
    admin = make_staff(db_session, invited.org, role=Role.admin)
    reviewer = make_staff(db_session, invited.org, role=Role.reviewer)
    with TestClient(app, follow_redirects=False) as client:
        csrf = open_link(client, invited.link)
        # The exercise vanishes from the workers' disk between upload and grading.
        (exercises / "mini-add").rename(tmp_path / "away")
        response = upload(client, csrf, make_submission_zip(), kind="final", confirm=True)
        run_id = int(response.headers["location"].rsplit("/", 1)[1])

        run = wait_for_status(engine, run_id, {RunStatus.error, RunStatus.graded}, timeout=90)
        assert run.status == RunStatus.error
        assert run.attempts == 2
        assert run.reason.startswith("ExerciseError: no exercise 'mini-add'")
        assert run.finished_at is not None
        assert run.finished_at - run.created_at >= timedelta(seconds=backoff_s(1))

        staff = TestClient(app, follow_redirects=False)
        staff_csrf = sign_in(staff, db_session, admin)
        page = text(staff.get(f"/runs/{run_id}"))
        assert f"Grading failed for an infrastructure reason: {run.reason}" in page
        assert f'action="/runs/{run_id}/retry"' in page
        watcher = TestClient(app, follow_redirects=False)
        sign_in(watcher, db_session, reviewer)
        assert f'action="/runs/{run_id}/retry"' not in watcher.get(f"/runs/{run_id}").text
        candidate_page = text(client.get(f"/c/runs/{run_id}"))
        assert "Grading hit a problem on our side." in candidate_page
        assert "ExerciseError" not in candidate_page and str(exercises) not in candidate_page

        # Fixed on disk; the button requeues it and it is graded.
        (tmp_path / "away").rename(exercises / "mini-add")
        retried = staff.post(f"/runs/{run_id}/retry", data={"csrf_token": staff_csrf})
        assert retried.status_code == 303
        assert retried.headers["location"] == f"/runs/{run_id}"
        run = wait_for_status(engine, run_id, {RunStatus.graded, RunStatus.error}, timeout=90)
        assert run.status == RunStatus.graded, run.reason
        assert run.score == 100.0
        assert run.attempts == 1
        assert "Retry grading" not in staff.get(f"/runs/{run_id}").text
    with Session(engine) as session:
        retries = session.exec(select(AuditEvent).where(AuditEvent.action == "run.retry")).all()
        assert [(e.actor, e.target) for e in retries] == [(admin.email, f"run:{run_id}")]
