"""Knock-outs on the staff side: a final that fails a `[[critical]]` test is
capped, and the report, the candidate's file and the pipeline name what it
did; the candidate's own pages do not (the label speaks of hidden tests)."""

from __future__ import annotations

from factories import MINI_ADD, make_invitation, make_position, make_submission_zip
from fastapi.testclient import TestClient
from pages import open_link, sign_in, text, upload
from sqlalchemy import Engine
from sqlmodel import Session
from worksample.db import GradingRun, Invitation, Organisation, User
from worksample.settings import Settings
from worksample.worker import process_run

LABEL = "adds wrongly when a number is negative"  # mini-add's [[critical]] negative_sums


def test_a_knocked_out_final_is_capped_and_named_to_staff_only(
    client: TestClient,
    db_session: Session,
    engine: Engine,
    settings: Settings,
    admin: User,
    org: Organisation,
) -> None:
    position = make_position(db_session, org, show_score=True)
    invitation, link = make_invitation(db_session, position)
    csrf = open_link(client, link)
    faulty = make_submission_zip(solution=MINI_ADD / "faulty" / "off-by-one" / "solution.py")
    final = upload(client, csrf, faulty, kind="final", confirm=True)
    run_id = int(final.headers["location"].rsplit("/", 1)[1])
    assert process_run(engine, settings=settings, run_id=run_id, worker="test").status == "done"
    run = db_session.get(GradingRun, run_id)
    assert run is not None
    assert (run.score, run.knockouts) == (40.0, LABEL)  # 62.5 before the cap

    candidate_pages = [text(client.get(path)) for path in ("/c", f"/c/runs/{run_id}")]
    assert all(LABEL not in page and "knock-out" not in page for page in candidate_pages)
    assert "40.0 / 100" in candidate_pages[1]  # the score itself is theirs to see here

    sign_in(client, db_session, admin)
    report = text(client.get(f"/runs/{run_id}"))
    card = report[report.index('id="knockouts"') : report.index('<h2 id="lost">')]
    assert LABEL in card and "capped at 40" in card and "test_add_negative" in card
    assert "capped from 62.5 by a knock-out" in report
    losses = report[report.index('<h2 id="lost">') : report.index("<h2>Tests</h2>")]
    assert "knock-out cap" in losses and "\u221222.5" in losses  # what the cap took
    assert "\u221260.0" in losses and "in all: 40.0 of 100 earned" in losses  # 37.5 + 22.5

    page = text(client.get(f"/invitations/{invitation.id}"))
    assert "knock-out" in page and LABEL in page
    pipeline = text(client.get(f"/positions/{position.id}"))
    assert LABEL in pipeline and f'href="/runs/{run_id}#knockouts"' in pipeline


def test_a_final_without_a_knockout_shows_none(
    client: TestClient, db_session: Session, engine: Engine, settings: Settings, admin: User
) -> None:
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    invitation: Invitation
    invitation, link = make_invitation(db_session, make_position(db_session, org))
    csrf = open_link(client, link)
    no_cli = make_submission_zip(solution=MINI_ADD / "faulty" / "no-cli" / "solution.py")
    run_id = int(
        upload(client, csrf, no_cli, kind="final", confirm=True)
        .headers["location"]
        .rsplit("/", 1)[1]
    )
    assert process_run(engine, settings=settings, run_id=run_id, worker="test").status == "done"
    run = db_session.get(GradingRun, run_id)
    assert run is not None and run.knockouts == "" and run.score == 56.25
    sign_in(client, db_session, admin)
    assert "knock-out" not in text(client.get(f"/runs/{run_id}"))
    assert "knock-out" not in text(client.get(f"/invitations/{invitation.id}"))
