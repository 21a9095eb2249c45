"""Blind positions: staff see a pseudonym, not the candidate's name, email or
file names, on every page, partial, title and download, until a decision; an
admin or hiring manager may reveal one candidate to themselves, recorded."""

from __future__ import annotations

import hashlib
import re
import zlib
from pathlib import Path
from urllib.parse import quote

import pytest
from factories import (
    make_invitation,
    make_position,
    make_run,
    make_submission,
    make_submission_zip,
    make_user,
)
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from pages import sign_in, text
from sqlmodel import Session, select
from worksample.db import (
    AuditEvent,
    Blob,
    Invitation,
    Organisation,
    Position,
    Role,
    RunStatus,
    SimilarityPair,
    Submission,
    SubmissionKind,
    User,
    utcnow,
)
from worksample.graders import Report
from worksample.similarity import Comparison
from worksample.web.services.identity import pseudonym

REPORT = Path(__file__).parents[1] / "graders" / "reports" / "schema-1-off-by-one.json"
SECRETS = re.compile(r"zelda|quokka|fenwick|secret\.example", re.IGNORECASE)
IDS = re.compile(
    r"\{(position_id|invitation_id|run_id|submission_id|to_submission_id|review_id|pair_id|path)(:path)?\}"
)


def blind_candidate(
    db_session: Session, admin: User
) -> tuple[Position, Invitation, list[Submission], int]:
    """A blind position's candidate with a practice run and a final, each named
    after her, a run of the final, and a note."""
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    position = make_position(db_session, org, title="ML Engineer", blind=True)
    invitation, _ = make_invitation(
        db_session, position, candidate_name="Zelda Quokka-Fenwick",
        candidate_email="zelda.fenwick@secret.example",
    )  # fmt: skip
    practice = make_submission(
        db_session, invitation, kind=SubmissionKind.practice, filename="zelda-fenwick-try.zip",
        data=make_submission_zip({"solution.py": "def add(a, b):\n    return a - b\n"}),
    )  # fmt: skip
    final = make_submission(db_session, invitation, filename="Zelda Fenwick final.zip")
    # A graded run with a real report (an old one, as stored reports are), for
    # the report and debrief pages.
    report = Report.model_validate_json(REPORT.read_bytes()).model_dump_json().encode()
    blob = Blob(sha256=hashlib.sha256(report).hexdigest(), size=len(report),
                media_type="application/json", data=report)  # fmt: skip
    db_session.add(blob)
    db_session.commit()
    run = make_run(db_session, final, status=RunStatus.graded, score=75.0,
                   report_blob_id=blob.id, finished_at=utcnow())  # fmt: skip
    return position, invitation, [practice, final], run.id or 0


def staff_pages(client: TestClient, position: Position, invitation: Invitation,
                subs: list[Submission], run_id: int, review_id: int) -> dict[str, str]:  # fmt: skip
    """Every staff GET route that takes a candidate's ids, filled in; a route
    added later without a line here fails the test."""
    practice, final = subs
    filled = {
        "/positions": "/positions",
        "/positions/{position_id}": f"/positions/{position.id}",
        "/positions/{position_id}/submissions": f"/positions/{position.id}/submissions",
        "/invitations/{invitation_id}": f"/invitations/{invitation.id}",
        "/runs/{run_id}": f"/runs/{run_id}",
        "/runs/{run_id}/debrief": f"/runs/{run_id}/debrief",
        "/submissions/{submission_id}/code/": f"/submissions/{final.id}/code/",
        "/submissions/{submission_id}/code/{path:path}":
            f"/submissions/{final.id}/code/{quote('solution.py')}",
        "/submissions/{submission_id}/diff": f"/submissions/{final.id}/diff",
        "/submissions/{submission_id}/diff/{to_submission_id}":
            f"/submissions/{practice.id}/diff/{final.id}",
        "/submissions/{submission_id}/archive": f"/submissions/{final.id}/archive",
        "/similarity/{pair_id}": f"/similarity/{similar_pair(client, final).id}",
        "/positions/{position_id}/compare": f"/positions/{position.id}/compare",
        "/positions/{position_id}/compare.csv": f"/positions/{position.id}/compare.csv",
        "/positions/{position_id}/agreement": f"/positions/{position.id}/agreement",
        "/reviews": "/reviews",
        "/reviews/{review_id}": f"/reviews/{review_id}",
    }  # fmt: skip
    routes = {
        ctx.route.path  # type: ignore[attr-defined]
        for ctx in iter_route_contexts(client.app.router.routes)  # type: ignore[attr-defined]
        if "GET" in getattr(ctx.route, "methods", ()) and IDS.search(getattr(ctx.route, "path", ""))
        and not ctx.route.path.startswith("/c/")  # type: ignore[attr-defined]
    }  # fmt: skip
    assert routes <= set(filled), f"staff pages not checked for blind mode: {routes - set(filled)}"
    return filled


def similar_pair(client: TestClient, final: Submission) -> SimilarityPair:
    """A flagged pair of the blind final and an open position's final."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        org = session.get(Organisation, final.org_id)
        assert org is not None
        position = make_position(session, org)
        other, _ = make_invitation(session, position, candidate_name="Open Person")
        theirs = make_submission(session, other)
        comparison = Comparison(
            a=f"submission {final.id}", b=f"submission {theirs.id}", share_a=0.9, share_b=0.8,
            matched_a=9, matched_b=8, files_a=[], files_b=[], fragments=[],
        )  # fmt: skip
        pair = SimilarityPair(
            org_id=org.id or 0, exercise_id="mini-add", a_id=final.id or 0, b_id=theirs.id or 0,
            share_a=0.9, share_b=0.8, fragments=0, flagged=True,
            data=zlib.compress(comparison.model_dump_json().encode()),
        )  # fmt: skip
        session.add(pair)
        session.commit()
        session.refresh(pair)
        return pair


def leaks(client: TestClient, url: str) -> list[str]:
    found = []
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
        shown = [response.text] + [f"{k}: {v}" for k, v in response.headers.items()]
        found += [
            f"{url} {headers}: {m.group(0)!r}" for part in shown for m in SECRETS.finditer(part)
        ]
    return found


@pytest.mark.parametrize("role", [Role.reviewer, Role.hiring_manager, Role.admin])
def test_no_page_shows_who_a_blind_candidate_is(
    client: TestClient, db_session: Session, admin: User, role: Role
) -> None:
    position, invitation, subs, run_id = blind_candidate(db_session, admin)
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    user = admin if role == Role.admin else make_user(db_session, org, role=role)
    csrf = sign_in(client, db_session, user)
    assert "Candidate " in text(client.get("/reviews"))  # the queue offers the final
    taken = client.post(f"/invitations/{invitation.id}/reviews", data={"csrf_token": csrf})
    review_id = int(taken.headers["location"].rsplit("/", 1)[1])
    pages = staff_pages(client, position, invitation, subs, run_id, review_id)
    found = [leak for url in pages.values() for leak in leaks(client, url)]
    assert found == []
    page = text(client.get(f"/invitations/{invitation.id}"))
    assert f"<h1>{pseudonym(invitation)} " in page
    assert pseudonym(invitation) in text(client.get(f"/positions/{position.id}"))
    assert f"upload-{subs[1].id}.zip" in page  # the file names, too
    archive = client.get(f"/submissions/{subs[1].id}/archive")
    assert f'filename="upload-{subs[1].id}.zip"' in archive.headers["content-disposition"]


def test_a_pseudonym_is_stable_and_differs_between_candidates(
    db_session: Session, admin: User
) -> None:
    position, invitation, _, _ = blind_candidate(db_session, admin)
    other, _ = make_invitation(db_session, position, candidate_name="Other")
    assert pseudonym(invitation) == pseudonym(db_session.get(Invitation, invitation.id))  # type: ignore[arg-type]
    assert re.fullmatch(r"Candidate [A-Z2-9]{5}", pseudonym(invitation))
    assert pseudonym(other) != pseudonym(invitation)


def test_a_decision_lifts_the_blind_for_everyone(
    client: TestClient, db_session: Session, admin: User
) -> None:
    _, invitation, _, _ = blind_candidate(db_session, admin)
    manager = TestClient(client.app, follow_redirects=False)
    csrf = sign_in(manager, db_session, admin)
    decided = manager.post(
        f"/invitations/{invitation.id}/decision",
        data={"csrf_token": csrf, "outcome": "reject", "reason": "The split leaks."},
    )
    assert decided.status_code == 303
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    sign_in(client, db_session, make_user(db_session, org, role=Role.reviewer))
    page = text(client.get(f"/invitations/{invitation.id}"))
    assert "<h1>Zelda Quokka-Fenwick " in page and "zelda.fenwick@secret.example" in page
    assert "Zelda Fenwick final.zip" in page
    assert "Blind review" not in page


def test_a_manager_reveals_one_candidate_to_themselves_and_it_is_recorded(
    client: TestClient, db_session: Session, admin: User
) -> None:
    position, invitation, _, _ = blind_candidate(db_session, admin)
    csrf = sign_in(client, db_session, admin)
    before = text(client.get(f"/invitations/{invitation.id}"))
    assert "Reveal to me" in before and "Zelda" not in before
    answer = client.post(f"/invitations/{invitation.id}/reveal", data={"csrf_token": csrf})
    assert answer.status_code == 303
    assert "<h1>Zelda Quokka-Fenwick " in text(client.get(f"/invitations/{invitation.id}"))
    assert "Zelda Quokka-Fenwick" in text(client.get(f"/positions/{position.id}"))
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "identity.reveal")).one()
    assert (event.actor, event.target) == (admin.email, f"invitation:{invitation.id}")
    assert "Zelda" not in event.detail  # the trail says who looked, not the name
    # A second reveal records nothing more; other staff still see the pseudonym.
    client.post(f"/invitations/{invitation.id}/reveal", data={"csrf_token": csrf})
    assert (
        len(db_session.exec(select(AuditEvent).where(AuditEvent.action == "identity.reveal")).all())
        == 1
    )
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    colleague = TestClient(client.app, follow_redirects=False)
    sign_in(colleague, db_session, make_user(db_session, org, role=Role.hiring_manager))
    assert leaks(colleague, f"/invitations/{invitation.id}") == []


def test_a_reviewer_cannot_reveal_and_an_open_position_has_nothing_to_reveal(
    client: TestClient, db_session: Session, admin: User
) -> None:
    _, invitation, _, _ = blind_candidate(db_session, admin)
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    csrf = sign_in(client, db_session, make_user(db_session, org, role=Role.reviewer))
    page = text(client.get(f"/invitations/{invitation.id}"))
    assert "Blind review" in page and "Reveal to me" not in page
    refused = client.post(f"/invitations/{invitation.id}/reveal", data={"csrf_token": csrf})
    assert refused.status_code == 403
    open_position = make_position(db_session, org)
    known, _ = make_invitation(db_session, open_position, candidate_name="Known Person")
    csrf = sign_in(client, db_session, admin)
    answer = client.post(f"/invitations/{known.id}/reveal", data={"csrf_token": csrf})
    assert answer.status_code == 400
    assert "not blind" in text(answer)
    assert "Known Person" in text(client.get(f"/invitations/{known.id}"))
    assert (
        db_session.exec(select(AuditEvent).where(AuditEvent.action == "identity.reveal")).first()
        is None
    )


def test_a_position_is_made_blind_from_the_form(
    client: TestClient, db_session: Session, admin: User
) -> None:
    csrf = sign_in(client, db_session, admin)
    form = {"csrf_token": csrf, "title": "Blind ML", "level": "Mid", "exercise_id": "mini-add",
            "window_days": "7", "practice_runs": "1", "blind": "true"}  # fmt: skip
    created = client.post("/positions", data=form)
    assert created.status_code == 303
    position = db_session.exec(select(Position).where(Position.title == "Blind ML")).one()
    assert position.blind
    assert "blind review" in client.get(created.headers["location"]).text
