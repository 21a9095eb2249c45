"""Grading runs as staff and candidates see them: the retry button and reports.

The worker (`worksample.worker`) claims, grades and finishes runs; the web app
only enqueues them, retries one that ended in an error, and reads reports.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlmodel import Session
from worksample.db import Blob, GradingRun, RunStatus, User
from worksample.graders import Report
from worksample.web.services import audit
from worksample.web.services.errors import Invalid, NotFound
from worksample.web.services.positions import require_manager


def retry_run(session: Session, *, user: User, run_id: int) -> GradingRun:
    run = session.get(GradingRun, run_id)
    if run is None or run.org_id != user.org_id:
        raise NotFound  # before the role check: another org's id is a 404, never a 403
    require_manager(user)
    if run.status != RunStatus.error:
        raise Invalid("only a run that ended in an error can be retried")
    run.status = RunStatus.queued
    run.attempts = 0
    run.not_before = None
    run.reason = ""
    session.add(run)
    audit.record(
        session, org_id=user.org_id, actor=user.email, action="run.retry", target=f"run:{run_id}"
    )
    session.commit()
    session.refresh(run)
    return run


_parsed_reports: OrderedDict[tuple[int, str], Report] = OrderedDict()
_parsed_lock = threading.Lock()
PARSED_REPORTS_KEPT = 256


def load_report(session: Session, run: GradingRun, *, digest: str | None) -> Report | None:
    """The run's report; `digest` is its blob's sha256, read with the run (None:
    no report). Parsed reports are kept per process (a blob is never changed once
    written), keyed by id and digest; the caller must not change one."""
    if run.report_blob_id is None or digest is None:
        return None
    key = (run.report_blob_id, digest)
    with _parsed_lock:
        if (report := _parsed_reports.get(key)) is not None:
            _parsed_reports.move_to_end(key)
            return report
    blob = session.get(Blob, run.report_blob_id)
    if blob is None:
        return None
    report = Report.model_validate_json(blob.data)
    with _parsed_lock:
        _parsed_reports[key] = report
        while len(_parsed_reports) > PARSED_REPORTS_KEPT:
            _parsed_reports.popitem(last=False)
    return report
