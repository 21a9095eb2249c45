"""The candidate's file: one page per invitation with the timeline, every upload
and what changed between them, and the reviewers' notes."""

from __future__ import annotations

import re
from datetime import timedelta

from factories import make_invitation, make_position, make_submission_zip, make_user
from fastapi.testclient import TestClient
from pages import open_link, sign_in, text, upload
from sqlmodel import Session, col, select
from worksample.db import (
    AuditEvent,
    GradingRun,
    Invitation,
    Note,
    Organisation,
    Role,
    RunStatus,
    Submission,
    User,
    utcnow,
)

FIRST = {"solution.py": "x = 1\n", "DESIGN.md": "# Design\n"}
SECOND = {"solution.py": "x = 2\ny = 3\n", "NOTES.md": "why\n"}


def candidate_with_two_uploads(
    client: TestClient, db_session: Session, admin: User
) -> tuple[Invitation, list[Submission]]:
    """A candidate who opened the link, started, uploaded a practice run and a
    final version through the pages, both graded."""
    org = db_session.get(Organisation, admin.org_id)
    position = make_position(db_session, org, title="Data Engineer")
    invitation, link = make_invitation(
        db_session, position, started=False, candidate_name="Ann Lee"
    )
    candidate = TestClient(client.app, follow_redirects=False)
    csrf = open_link(candidate, link)
    assert candidate.post("/c/start", data={"csrf_token": csrf}).status_code == 303
    assert upload(candidate, csrf, make_submission_zip(FIRST)).status_code == 303
    final = upload(candidate, csrf, make_submission_zip(SECOND), kind="final", confirm=True)
    assert final.status_code == 303
    submissions = list(
        db_session.exec(
            select(Submission)
            .where(Submission.invitation_id == invitation.id)
            .order_by(col(Submission.id))
        )
    )
    db_session.refresh(invitation)
    invitation.created_at = utcnow() - timedelta(hours=5)
    invitation.opened_at = utcnow() - timedelta(hours=4)
    invitation.started_at = utcnow() - timedelta(hours=3)
    db_session.add(invitation)
    for hours_ago, submission, score in zip((2, 1), submissions, (40.0, 87.5), strict=True):
        # An hour between the uploads, each graded a minute after it came.
        submission.created_at = utcnow() - timedelta(hours=hours_ago)
        db_session.add(submission)
        run = db_session.exec(
            select(GradingRun).where(GradingRun.submission_id == submission.id)
        ).one()
        finished = submission.created_at + timedelta(minutes=1)
        run.status, run.score, run.finished_at = RunStatus.graded, score, finished
        db_session.add(run)
    db_session.commit()
    return invitation, submissions


def test_the_candidate_file_tells_the_story(
    client: TestClient, db_session: Session, admin: User
) -> None:
    invitation, (practice, final) = candidate_with_two_uploads(client, db_session, admin)
    sign_in(client, db_session, admin)
    pipeline = client.get(f"/positions/{invitation.position_id}")
    assert f'href="/invitations/{invitation.id}"' in pipeline.text  # the pipeline links here
    page = client.get(f"/invitations/{invitation.id}")
    assert page.status_code == 200
    body = text(page)
    assert "Ann Lee" in body
    assert "Final submission" in body
    assert "87.5 / 100" in body
    # What changed from the practice run to the final: one file changed, one
    # added, one removed, with line counts, linking to the diff.
    diff = f"/submissions/{practice.id}/diff/{final.id}"
    assert f'href="{diff}"' in page.text
    counts = r'3 files <span class="plus">\+(\d+)</span> <span class="minus">\u2212(\d+)'
    changed = re.search(counts, body)
    assert changed, body
    assert (int(changed.group(1)), int(changed.group(2))) == (3, 2)  # +2 -1, +1, -1
    for kind, path in (("changed", "solution.py"), ("added", "NOTES.md"), ("removed", "DESIGN.md")):
        which = rf'<span class="badge {kind}">{kind}</span> <a href="/submissions/\d+/code/{path}">'
        assert re.search(which, body), (kind, path)
    # The timeline, in order.
    timeline = body.split("<h2>Timeline</h2>", 1)[1]
    order = [
        "Invited",
        "Opened the link",
        "Started the clock",
        "Uploaded practice run 1",
        "Graded on the public tests",
        "Submitted the final version",
        "· 87.5 / 100",
    ]
    positions = [timeline.find(event) for event in order]
    assert -1 not in positions, list(zip(order, positions, strict=True))
    assert positions == sorted(positions), list(zip(order, positions, strict=True))


def test_a_line_note_is_seen_by_another_reviewer_and_audited(
    client: TestClient, db_session: Session, admin: User
) -> None:
    invitation, (_, final) = candidate_with_two_uploads(client, db_session, admin)
    org = db_session.get(Organisation, admin.org_id)
    writer = make_user(db_session, org, role=Role.reviewer, name="Rita Reviewer")
    csrf = sign_in(client, db_session, writer)
    back = f"/submissions/{final.id}/code/solution.py#L2"
    written = client.post(
        f"/invitations/{invitation.id}/notes",
        data={
            "csrf_token": csrf,
            "body": "Why a second function <b>here</b>?",
            "submission_id": str(final.id),
            "path": "solution.py",
            "line": "2",
            "back": back,
        },
    )
    assert written.status_code == 303
    assert written.headers["location"] == back
    other = TestClient(client.app, follow_redirects=False)
    sign_in(other, db_session, make_user(db_session, org, role=Role.reviewer))
    page = other.get(f"/invitations/{invitation.id}")
    assert "Rita Reviewer" in page.text
    assert "Why a second function &lt;b&gt;here&lt;/b&gt;?" in page.text  # escaped
    assert f'href="/submissions/{final.id}/code/solution.py#L2">solution.py, line 2' in page.text
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "note.create")).one()
    assert event.actor == writer.email
    assert event.target == f"invitation:{invitation.id}"
    assert "solution.py, line 2" in event.detail


def test_notes_that_point_elsewhere_are_refused(
    client: TestClient, db_session: Session, admin: User
) -> None:
    invitation, (practice, _) = candidate_with_two_uploads(client, db_session, admin)
    org = db_session.get(Organisation, admin.org_id)
    someone_else, _ = make_invitation(db_session, make_position(db_session, org))
    csrf = sign_in(client, db_session, admin)
    cases = [
        (
            {"submission_id": str(practice.id)},
            someone_else.id,
            "that submission is not this candidate's",
        ),
        ({"path": "solution.py"}, invitation.id, "a note on a file or a test names its submission"),
        (
            {"submission_id": str(practice.id), "line": "3"},
            invitation.id,
            "a note on a line names its file",
        ),
        ({"submission_id": str(practice.id), "line": "0", "path": "a.py"}, invitation.id, "line"),
        ({"body": "   "}, invitation.id, "body: write something"),
        ({"test_id": "a\nb", "submission_id": str(practice.id)}, invitation.id, "must be one line"),
    ]
    for form, target, message in cases:
        data = {"csrf_token": csrf, "body": "a note"} | form
        refused = client.post(f"/invitations/{target}/notes", data=data)
        assert refused.status_code == 400, (form, refused.text[:300])
        assert message in text(refused), (form, message)
    assert db_session.exec(select(Note)).all() == []
    # A `back` that leaves the site is ignored: to the candidate's file instead.
    data = {"csrf_token": csrf, "body": "fine", "back": "//evil.example/x"}
    sent = client.post(f"/invitations/{invitation.id}/notes", data=data)
    assert sent.headers["location"] == f"/invitations/{invitation.id}"
