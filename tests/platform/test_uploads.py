"""Uploads: each refusal says why, and a refusal leaves nothing behind.

Every test counts the rows an upload writes (Blob, Submission, GradingRun) and
the grading jobs on the queue before and after: a refused upload adds none, an
accepted one exactly one of each.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from factories import (
    make_invitation,
    make_org,
    make_position,
    make_submission,
    make_submission_zip,
    make_user,
)
from fastapi import FastAPI
from fastapi.testclient import TestClient
from infra import live_server
from pages import count_rows, csrf_of, open_link, sign_in, text, upload
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from worksample.db import (
    Blob,
    GradingRun,
    Invitation,
    Organisation,
    Role,
    Submission,
    utcnow,
)
from worksample.web.deps import SESSION_COOKIE

STORED = (Blob, Submission, GradingRun)


@dataclass
class Candidate:
    app: FastAPI
    client: TestClient
    invitation: Invitation
    csrf: str

    def stored(self) -> dict[str, int]:
        counts = count_rows(self.app.state.engine, *STORED)
        counts["jobs"] = self.app.state.queue.huey.pending_count()
        return counts


@pytest.fixture
def make_candidate(
    make_app: Callable[..., FastAPI], db_session: Session
) -> Callable[..., Candidate]:
    """A candidate who opened their link (and started the clock unless told otherwise)."""

    def make(*, started: bool = True, practice_runs: int = 3, **settings: object) -> Candidate:
        app = make_app(**settings)
        org = make_org(db_session)
        position = make_position(db_session, org, practice_runs=practice_runs)
        invitation, token = make_invitation(db_session, position, started=started)
        client = TestClient(app, follow_redirects=False)
        csrf = open_link(client, token)
        return Candidate(app, client, invitation, csrf)

    return make


@pytest.fixture
def candidate(make_candidate: Callable[..., Candidate]) -> Candidate:
    return make_candidate()


def refused(candidate: Candidate, response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text[:500]
    assert message in text(response), text(response)[:2000]


def test_an_accepted_upload_stores_one_of_each(candidate: Candidate) -> None:
    before = candidate.stored()
    response = upload(candidate.client, candidate.csrf, make_submission_zip())
    assert response.status_code == 303
    assert response.headers["location"].startswith("/c/runs/")
    assert candidate.stored() == {name: n + 1 for name, n in before.items()}


def test_oversized_upload(make_candidate: Callable[..., Candidate]) -> None:
    candidate = make_candidate(max_upload_mb=1)
    before = candidate.stored()
    # A valid zip a little over the limit: checked by the upload service.
    just_over = make_submission_zip({"solution.py": "x = 1\n", "data.bin": os.urandom(1 << 20)})
    response = upload(candidate.client, candidate.csrf, just_over)
    refused(candidate, response, 400, "the upload is larger than 1 MiB")
    # Far over: refused from its Content-Length before the body is read or spooled.
    far_over = make_submission_zip({"data.bin": os.urandom(3 << 20)})
    response = upload(candidate.client, candidate.csrf, far_over)
    refused(candidate, response, 413, "The upload is larger than 1 MiB.")
    assert response.headers["content-security-policy"]
    # Far over without a Content-Length (chunked): refused while it streams in.
    response = candidate.client.post(
        "/c/upload",
        content=(b"y" * (1 << 16) for _ in range(48)),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    refused(candidate, response, 413, "The upload is larger than 1 MiB.")
    assert candidate.stored() == before


def test_not_a_zip(candidate: Candidate) -> None:
    before = candidate.stored()
    response = upload(candidate.client, candidate.csrf, b"def add(a, b): return a + b\n")
    refused(candidate, response, 400, "The upload is not a zip archive; please upload a zip file.")
    assert candidate.stored() == before


def test_a_form_without_its_file_gets_a_page_naming_the_field(candidate: Candidate) -> None:
    before = candidate.stored()
    response = candidate.client.post(
        "/c/upload", data={"csrf_token": candidate.csrf, "kind": "practice"}
    )
    refused(candidate, response, 400, "The form could not be read (archive: Field required)")
    assert response.headers["content-type"].startswith("text/html")
    assert candidate.stored() == before
    # A run id that is not a number names no page: the same 404 as any other.
    response = candidate.client.get("/c/runs/not-a-number")
    refused(candidate, response, 404, "No such page here.")


def test_zip_slip(candidate: Candidate) -> None:
    before = candidate.stored()
    data = make_submission_zip({"solution.py": "x = 1\n", "../../etc/cron.d/evil": "* * * * *"})
    response = upload(candidate.client, candidate.csrf, data)
    refused(candidate, response, 400, '"../../etc/cron.d/evil" escapes the submission folder.')
    assert candidate.stored() == before


def test_empty_file(candidate: Candidate) -> None:
    before = candidate.stored()
    response = upload(candidate.client, candidate.csrf, b"")
    refused(candidate, response, 400, "the upload is empty: choose a .zip file")
    assert candidate.stored() == before


def test_after_the_deadline(candidate: Candidate, db_session: Session) -> None:
    invitation = db_session.get(Invitation, candidate.invitation.id)
    assert invitation is not None
    invitation.deadline_at = utcnow() - timedelta(minutes=1)
    db_session.add(invitation)
    db_session.commit()
    before = candidate.stored()
    response = upload(candidate.client, candidate.csrf, make_submission_zip())
    refused(candidate, response, 400, "the deadline has passed; uploads are closed")
    assert "The deadline has passed; uploads are closed." in text(candidate.client.get("/c"))
    assert candidate.stored() == before


def test_after_revoke_the_session_is_dead(candidate: Candidate, db_session: Session) -> None:
    org = db_session.get(Organisation, candidate.invitation.org_id)
    assert org is not None
    admin = make_user(db_session, org, role=Role.admin)
    staff = TestClient(candidate.app, follow_redirects=False)
    staff_csrf = sign_in(staff, db_session, admin)
    revoked = staff.post(
        f"/invitations/{candidate.invitation.id}/revoke", data={"csrf_token": staff_csrf}
    )
    assert revoked.status_code == 303
    before = candidate.stored()
    response = upload(candidate.client, candidate.csrf, make_submission_zip())
    refused(candidate, response, 403, "Your session has ended; reload the page.")
    assert candidate.client.get("/c").status_code == 403
    assert candidate.stored() == before


def test_double_final_submit(candidate: Candidate) -> None:
    before = candidate.stored()
    first = upload(
        candidate.client, candidate.csrf, make_submission_zip(), kind="final", confirm=True
    )
    assert first.status_code == 303
    second = upload(
        candidate.client, candidate.csrf, make_submission_zip(), kind="final", confirm=True
    )
    refused(candidate, second, 400, "you have already submitted your final version")
    assert candidate.stored() == {name: n + 1 for name, n in before.items()}


def upload_at_once(
    candidate: Candidate, clicks: int, *, padding: int = 0, **form: Any
) -> list[httpx.Response]:
    """`clicks` uploads from the candidate's session released together (a barrier)
    against the app behind a real server, each from a connection of its own.
    `padding` random bytes in each archive widen the time between a check read
    at the start of an upload and the rows written at its end."""
    session_token = candidate.client.cookies[SESSION_COOKIE]
    barrier = threading.Barrier(clicks)
    responses: list[httpx.Response] = []
    with live_server(candidate.app) as base_url:

        def click(n: int) -> None:
            with httpx.Client(
                base_url=base_url, cookies={SESSION_COOKIE: session_token}, timeout=60
            ) as browser:
                files: dict[str, str | bytes] = {"solution.py": f"VERSION = {n}\n"}
                if padding:
                    files["padding.bin"] = os.urandom(padding)
                data = make_submission_zip(files)
                barrier.wait()
                responses.append(upload(browser, candidate.csrf, data, **form))

        threads = [threading.Thread(target=click, args=(n,)) for n in range(clicks)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    return responses


def test_concurrent_final_uploads_land_at_most_once(candidate: Candidate) -> None:
    """Four simultaneous clicks on "submit" against a real server: one lands."""
    before = candidate.stored()
    responses = upload_at_once(candidate, 4, kind="final", confirm=True)
    codes = sorted(r.status_code for r in responses)
    assert codes == [303, 400, 400, 400], [r.text[:300] for r in responses]
    for response in responses:
        if response.status_code == 400:
            assert "you have already submitted your final version" in text(response)
    assert candidate.stored() == {name: n + 1 for name, n in before.items()}


def test_concurrent_practice_uploads_keep_the_limit(
    make_candidate: Callable[..., Candidate],
) -> None:
    """Eight simultaneous practice uploads against a real server, one run allowed:
    one lands, seven are refused, and the count says 1 of 1 (it said 8 / 1)."""
    candidate = make_candidate(practice_runs=1)
    before = candidate.stored()
    clicks = 8
    responses = upload_at_once(candidate, clicks, kind="practice", padding=4 << 20)
    codes = sorted(r.status_code for r in responses)
    assert codes == [303] + [400] * (clicks - 1), [r.text[:300] for r in responses]
    for response in responses:
        if response.status_code == 400:
            assert "no practice runs left" in text(response)
    assert candidate.stored() == {name: n + 1 for name, n in before.items()}
    assert "0 left." in text(candidate.client.get("/c"))


def test_the_database_refuses_a_second_final(db_session: Session) -> None:
    """The last line of defence, whatever the service checks before it."""
    org = make_org(db_session)
    invitation, _ = make_invitation(db_session, make_position(db_session, org))
    make_submission(db_session, invitation)
    with pytest.raises(IntegrityError):
        make_submission(db_session, invitation)
    db_session.rollback()


def test_no_practice_runs_left(make_candidate: Callable[..., Candidate]) -> None:
    candidate = make_candidate(practice_runs=1)
    assert upload(candidate.client, candidate.csrf, make_submission_zip()).status_code == 303
    before = candidate.stored()
    response = upload(candidate.client, candidate.csrf, make_submission_zip())
    refused(candidate, response, 400, "no practice runs left")
    assert candidate.stored() == before


def test_final_without_the_confirmation_box(candidate: Candidate) -> None:
    before = candidate.stored()
    response = upload(candidate.client, candidate.csrf, make_submission_zip(), kind="final")
    refused(candidate, response, 400, "tick the confirmation box to submit your final version")
    assert candidate.stored() == before


def test_before_starting_the_clock(make_candidate: Callable[..., Candidate]) -> None:
    candidate = make_candidate(started=False)
    before = candidate.stored()
    response = upload(candidate.client, candidate.csrf, make_submission_zip())
    refused(candidate, response, 400, "start the clock before uploading")
    assert candidate.client.get("/c/kit").status_code == 409
    assert candidate.stored() == before


def test_missing_csrf_token(candidate: Candidate) -> None:
    before = candidate.stored()
    response = upload(candidate.client, None, make_submission_zip())
    refused(candidate, response, 403, "The form expired or came from elsewhere; reload and retry.")
    wrong = upload(candidate.client, "not-the-token", make_submission_zip())
    refused(candidate, wrong, 403, "The form expired or came from elsewhere; reload and retry.")
    assert candidate.stored() == before
    # The token on the page is the one that works.
    assert csrf_of(candidate.client.get("/c")) == candidate.csrf
