"""The life of a grading run: the database row is the truth.

A worker claims a run by a conditional update (queued, or running with an
expired lease), renews the lease while it grades, and writes the outcome only
if it still holds the lease. A worker that dies leaves a run whose lease
expires; `recover` finds it and it is graded again. An infrastructure error is
retried with backoff up to `grading_max_attempts`, then shown to staff with a
retry button (the web app's `retry_run`).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, and_, or_, update
from sqlmodel import Session, col, select
from worksample.db import (
    Blob,
    GradingRun,
    Invitation,
    Position,
    RunStatus,
    Submission,
    utcnow,
)
from worksample.graders import ExerciseError, GradingOptions, Report, find_exercise, grade
from worksample.settings import Settings
from worksample.worker._similarity import fingerprint_final

log = logging.getLogger("worksample.grading")
STALE_QUEUED = timedelta(minutes=2)


@dataclass(frozen=True)
class Outcome:
    status: str  # "done", "retry", "failed", "skipped"
    delay_s: float = 0.0


def backoff_s(attempt: int) -> float:
    return float(min(300, 10 * 2 ** (attempt - 1)))


def claim(session: Session, *, run_id: int, worker: str, lease_s: int) -> bool:
    now = utcnow()
    claimable = or_(
        col(GradingRun.status) == RunStatus.queued,
        and_(col(GradingRun.status) == RunStatus.running, col(GradingRun.lease_until) < now),
    )
    ready = or_(col(GradingRun.not_before).is_(None), col(GradingRun.not_before) <= now)
    result = session.execute(
        update(GradingRun)
        .where(col(GradingRun.id) == run_id, claimable, ready)
        .values(
            status=RunStatus.running,
            lease_until=now + timedelta(seconds=lease_s),
            attempts=GradingRun.attempts + 1,
            worker=worker,
        )
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def renew(engine: Engine, *, run_id: int, worker: str, lease_s: int) -> bool:
    with Session(engine) as session:
        result = session.execute(
            update(GradingRun)
            .where(
                col(GradingRun.id) == run_id,
                col(GradingRun.worker) == worker,
                col(GradingRun.status) == RunStatus.running,
            )
            .values(lease_until=utcnow() + timedelta(seconds=lease_s))
        )
        session.commit()
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def process_run(engine: Engine, *, settings: Settings, run_id: int, worker: str) -> Outcome:
    """Grade one run if this worker can claim it. Never raises for a grading failure."""
    # One holder name per claim, not per process: two threads of one worker
    # process must not mistake each other's lease for their own.
    worker = f"{worker}:{secrets.token_hex(4)}"
    with Session(engine) as session:
        if not claim(session, run_id=run_id, worker=worker, lease_s=settings.grading_lease_s):
            return Outcome("skipped")
        run = session.get(GradingRun, run_id)
        assert run is not None
        submission = session.get(Submission, run.submission_id)
        assert submission is not None
        invitation = session.get(Invitation, submission.invitation_id)
        assert invitation is not None
        position = session.get(Position, invitation.position_id)
        assert position is not None
        blob = session.get(Blob, submission.archive_blob_id)
        assert blob is not None
        archive, public_only, exercise_id = blob.data, run.public_only, position.exercise_id
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(settings.grading_lease_s / 3):
            renew(engine, run_id=run_id, worker=worker, lease_s=settings.grading_lease_s)

    beat = threading.Thread(target=heartbeat, daemon=True, name=f"lease-{run_id}")
    beat.start()
    try:
        exercise = find_exercise(settings.exercises_dir, exercise_id)
        options = GradingOptions(sandbox=settings.sandbox_options, public_only=public_only)
        # The stored archive itself: intake reads it in memory, nothing is unpacked.
        graded = grade(exercise, archive, options=options)
        report: Report | None = graded
        failure = graded.reason if graded.status == "error" else None
    except (ExerciseError, OSError) as exc:
        report, failure = None, f"{type(exc).__name__}: {exc}"
    except Exception as exc:
        log.exception("grading run %s crashed", run_id)
        report, failure = None, f"{type(exc).__name__}: {exc}"
    finally:
        stop.set()
        beat.join()
    outcome = _finish(
        engine, settings=settings, run_id=run_id, worker=worker, report=report, failure=failure
    )
    if outcome.status == "done":  # the grade is stored: similarity evidence never changes it
        fingerprint_final(engine, settings=settings, run_id=run_id)
    return outcome


def _finish(
    engine: Engine,
    *,
    settings: Settings,
    run_id: int,
    worker: str,
    report: Report | None,
    failure: str | None,
) -> Outcome:
    with Session(engine) as session:
        run = session.get(GradingRun, run_id)
        assert run is not None
        if run.status != RunStatus.running or run.worker != worker:
            log.warning("run %s: lease lost to %s, result discarded", run_id, run.worker)
            return Outcome("skipped")
        if failure is not None:
            run.reason = failure[:4000]
            if run.attempts < settings.grading_max_attempts:
                delay = backoff_s(run.attempts)
                run.status = RunStatus.queued
                run.not_before = utcnow() + timedelta(seconds=delay)
                run.lease_until = None
                session.add(run)
                session.commit()
                return Outcome("retry", delay)
            run.status = RunStatus.error
            run.finished_at = utcnow()
            session.add(run)
            session.commit()
            return Outcome("failed")
        assert report is not None
        data = report.model_dump_json().encode()
        blob = Blob(
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            media_type="application/json",
            data=data,
        )
        session.add(blob)
        session.flush()
        run.report_blob_id = blob.id
        run.status = RunStatus.graded if report.status == "graded" else RunStatus.rejected
        run.score = report.score
        run.knockouts = "\n".join(k.label for k in report.knockouts)
        run.reason = report.reason
        run.finished_at = utcnow()
        run.lease_until = None
        session.add(run)
        session.commit()
        return Outcome("done")


def recover(session: Session, *, max_attempts: int) -> list[int]:
    """Runs to (re)enqueue: expired leases (dead workers) and queued runs whose
    job may have been lost. Claiming is idempotent, so a duplicate is harmless.

    A run whose worker died on each of its `max_attempts` tries ends as an
    error (for staff to retry) instead of taking down worker after worker."""
    now = utcnow()
    expired = list(
        session.exec(
            select(GradingRun).where(
                GradingRun.status == RunStatus.running, col(GradingRun.lease_until) < now
            )
        )
    )
    requeued = []
    for run in expired:
        run.lease_until = None
        if run.attempts >= max_attempts:
            log.error("run %s: lease of %s expired on the last attempt", run.id, run.worker)
            run.status = RunStatus.error
            run.reason = (
                f"the worker grading it stopped responding ({run.attempts} attempt(s), "
                f"last {run.worker})"
            )
            run.finished_at = now
        else:
            log.warning("run %s: lease of %s expired, requeued", run.id, run.worker)
            run.status = RunStatus.queued
            requeued.append(run.id)
        session.add(run)
    session.commit()
    stale = session.exec(
        select(GradingRun.id).where(
            GradingRun.status == RunStatus.queued,
            col(GradingRun.created_at) < now - STALE_QUEUED,
            or_(col(GradingRun.not_before).is_(None), col(GradingRun.not_before) <= now),
        )
    )
    return sorted({i for i in requeued if i} | {i for i in stale if i})
