"""Decisions: a hiring manager or admin advances, holds or rejects, with a reason
for the team; the candidate may be told by email; the file, the pipeline and
the audit trail show it."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes
from email.policy import default as default_policy

import httpx
import pytest
from factories import make_invitation, make_position, make_user
from fastapi import FastAPI
from fastapi.testclient import TestClient
from infra import Inbox
from pages import sign_in, text
from sqlmodel import Session, col, select
from worksample.db import AuditEvent, Decision, Invitation, Organisation, OutboxMail, Role, User


def _candidate(db_session: Session, admin: User) -> Invitation:
    org = db_session.get(Organisation, admin.org_id)
    position = make_position(db_session, org, title="ML Engineer")
    invitation, _ = make_invitation(db_session, position, candidate_name="Ann Lee")
    return invitation


def decide(client: TestClient, csrf: str, invitation: Invitation, **form: str) -> httpx.Response:
    return client.post(f"/invitations/{invitation.id}/decision", data={"csrf_token": csrf, **form})


@pytest.mark.parametrize("role", [Role.admin, Role.hiring_manager])
def test_a_manager_records_a_decision_that_the_file_pipeline_and_audit_show(
    client: TestClient, db_session: Session, admin: User, role: Role
) -> None:
    invitation = _candidate(db_session, admin)
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    decider = admin if role == Role.admin else make_user(db_session, org, role=role, name="Hana")
    csrf = sign_in(client, db_session, decider)
    answer = decide(client, csrf, invitation, outcome="advance", reason="Clear evaluation design.")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/invitations/{invitation.id}#decision"

    page = text(client.get(f"/invitations/{invitation.id}"))
    decision_card = page[page.index('<h2 id="decision">') : page.index("<h2>Uploads</h2>")]
    assert '<span class="badge advance">advance</span>' in decision_card
    assert f"by {decider.name}" in decision_card
    assert "Clear evaluation design." in decision_card
    timeline = page[page.index("<h2>Timeline</h2>") :]
    assert "Decision: advance" in timeline and "Clear evaluation design." in timeline
    pipeline = client.get(f"/positions/{invitation.position_id}").text
    assert f'href="/invitations/{invitation.id}#decision"' in pipeline
    assert '<span class="badge advance">advance</span>' in pipeline
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "decision.record")).one()
    assert (event.actor, event.target, event.detail) == (
        decider.email,
        f"invitation:{invitation.id}",
        "advance",
    )
    assert db_session.exec(select(OutboxMail)).first() is None  # nobody was told


def test_a_new_decision_stands_and_the_earlier_one_stays_as_history(
    client: TestClient, db_session: Session, admin: User
) -> None:
    invitation = _candidate(db_session, admin)
    csrf = sign_in(client, db_session, admin)
    assert (
        decide(
            client, csrf, invitation, outcome="hold", reason="Wait for the other two."
        ).status_code
        == 303
    )
    assert (
        decide(
            client, csrf, invitation, outcome="reject", reason="Leakage in the split."
        ).status_code
        == 303
    )
    page = text(client.get(f"/invitations/{invitation.id}"))
    card = page[page.index('<h2 id="decision">') : page.index("<h2>Uploads</h2>")]
    assert card.index('<span class="badge reject">') < card.index("Earlier decisions (1)")
    assert card.index("Earlier decisions (1)") < card.index('<span class="badge hold">')
    pipeline = client.get(f"/positions/{invitation.position_id}").text
    assert '<span class="badge reject">reject</span>' in pipeline
    assert '<span class="badge hold">hold</span>' not in pipeline
    outcomes = db_session.exec(select(Decision.outcome).order_by(col(Decision.id))).all()
    assert [o.value for o in outcomes] == ["hold", "reject"]


def test_a_reviewer_sees_the_decision_but_cannot_make_one(
    client: TestClient, db_session: Session, admin: User
) -> None:
    invitation = _candidate(db_session, admin)
    manager_client = TestClient(client.app, follow_redirects=False)
    decide(manager_client, sign_in(manager_client, db_session, admin), invitation,
           outcome="advance", reason="Strong DESIGN.md.")  # fmt: skip
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    reviewer = make_user(db_session, org, role=Role.reviewer)
    csrf = sign_in(client, db_session, reviewer)
    page = text(client.get(f"/invitations/{invitation.id}"))
    assert "Strong DESIGN.md." in page
    assert 'action="/invitations/' + str(invitation.id) + '/decision"' not in page
    refused = decide(client, csrf, invitation, outcome="reject", reason="No.")
    assert refused.status_code == 403
    assert len(db_session.exec(select(Decision)).all()) == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"outcome": "", "reason": "Fine."},
            "outcome: Input should be 'advance', 'hold' or 'reject'",
        ),
        (
            {"outcome": "hire", "reason": "Fine."},
            "outcome: Input should be 'advance', 'hold' or 'reject'",
        ),
        ({"outcome": "advance", "reason": "   "}, "reason: say why, for the team"),
        ({"outcome": "advance", "reason": "x" * 2001}, "reason: String should have at most 2000"),
    ],
)
def test_a_bad_decision_form_is_refused_with_the_reason_and_kept(
    client: TestClient, db_session: Session, admin: User, form: dict[str, str], message: str
) -> None:
    invitation = _candidate(db_session, admin)
    csrf = sign_in(client, db_session, admin)
    answer = decide(client, csrf, invitation, **form, message="My own words")
    assert answer.status_code == 400
    page = text(answer)
    assert message in page
    assert "My own words</textarea>" in page  # what was typed is still there
    assert db_session.exec(select(Decision)).first() is None
    assert (
        db_session.exec(select(AuditEvent).where(AuditEvent.action == "decision.record")).first()
        is None
    )


def test_the_candidate_is_told_in_standard_words_without_the_reason(
    make_app: Callable[..., FastAPI], db_session: Session, admin: User, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    staff = TestClient(make_app(smtp_host="127.0.0.1", smtp_port=port), follow_redirects=False)
    invitation = _candidate(db_session, admin)
    csrf = sign_in(staff, db_session, admin)
    reason = "Internal: the split leaks the target."
    answer = decide(staff, csrf, invitation, outcome="reject", reason=reason, tell_candidate="on")
    assert answer.status_code == 303
    assert inbox.received.wait(10)
    message = message_from_bytes(inbox.messages[0], policy=default_policy)
    assert message["To"] == invitation.candidate_email
    assert message["Subject"] == "Your application for ML Engineer"
    body = message.get_content()
    assert body.startswith("Hello Ann Lee,")
    assert "decided not to go on with your application" in body
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None and org.name in body
    assert "split" not in body  # the team's reason stays inside
    decision = db_session.exec(select(Decision)).one()
    mail = db_session.get(OutboxMail, decision.mail_id)
    assert mail is not None and mail.status == "sent"
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "decision.record")).one()
    assert event.detail == "reject; candidate emailed (sent)"
    page = text(staff.get(f"/invitations/{invitation.id}"))
    assert "the candidate was emailed" in page


def test_the_decider_may_write_the_candidate_their_own_words(
    client: TestClient, db_session: Session, admin: User
) -> None:
    """Without SMTP the mail waits in the outbox, as every other mail."""
    invitation = _candidate(db_session, admin)
    csrf = sign_in(client, db_session, admin)
    own = "Dear Ann,\n\nWe loved your DESIGN.md. Next: a call with the team.\n"
    answer = decide(client, csrf, invitation, outcome="advance", reason="Yes.",
                    tell_candidate="on", message=own)  # fmt: skip
    assert answer.status_code == 303
    mail = db_session.exec(select(OutboxMail)).one()
    assert (mail.to, mail.status, mail.body) == (invitation.candidate_email, "outbox", own.strip())
    assert mail.subject == "Your application for ML Engineer: the next step"
