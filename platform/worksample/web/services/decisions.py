"""Decisions: advance, hold or reject a candidate, with the team's reason.

Only admins and hiring managers decide. The reason is for the team: it is on
the candidate's file and in the pipeline's history, and it is never sent. The
candidate may be told by email, in the outcome's standard words (`MESSAGES`)
or in the decider's own; either way the mail is in the outbox and linked from
the decision. A new decision replaces the standing one; the earlier ones stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import bindparam
from sqlmodel import Session, col, select
from worksample.db import Decision, Invitation, Organisation, Outcome, Position, User
from worksample.settings import Settings
from worksample.web.services import audit
from worksample.web.services.mail import send_mail
from worksample.web.services.positions import require_manager

# What the candidate reads when the decider writes nothing of their own.
# `{name}`, `{position}` and `{organisation}` are filled in; nothing else of the
# team's is (the reason stays inside).
MESSAGES = {
    Outcome.advance: (
        "Hello {name},\n\n"
        "Thank you for your work on the exercise for {position}. We would like to go on "
        "to the next step with you, and will write to you about it shortly.\n\n"
        "{organisation}\n"
    ),
    Outcome.hold: (
        "Hello {name},\n\n"
        "Thank you for your work on the exercise for {position}. We have not decided yet; "
        "we will write to you again when we have.\n\n"
        "{organisation}\n"
    ),
    Outcome.reject: (
        "Hello {name},\n\n"
        "Thank you for the time you gave to the exercise for {position}. We have decided "
        "not to go on with your application. We are grateful for your work and wish you "
        "well.\n\n"
        "{organisation}\n"
    ),
}
SUBJECTS = {
    Outcome.advance: "Your application for {position}: the next step",
    Outcome.hold: "Your application for {position}",
    Outcome.reject: "Your application for {position}",
}


class DecisionCreate(BaseModel):
    outcome: Outcome
    reason: str = Field(min_length=1, max_length=2000)
    tell_candidate: bool = False
    message: str = Field("", max_length=5000)  # blank: the outcome's standard words

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say why, for the team (the candidate never sees it)")
        return value.strip()

    @field_validator("message")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()


@dataclass(frozen=True)
class DecisionView:
    decision: Decision
    decider: str  # the user's name


def candidate_message(
    outcome: Outcome, *, invitation: Invitation, position: Position, org: str, name: str = ""
) -> str:
    """The standard words for an outcome, filled in for this candidate (`name`
    instead of theirs: a blind position's pseudonym, on the form)."""
    return MESSAGES[outcome].format(
        name=name or invitation.candidate_name, position=position.title, organisation=org
    )


def messages_for(
    session: Session, invitation: Invitation, position: Position, *, name: str
) -> dict[Outcome, str]:
    """Each outcome's standard words as this candidate would read them, with
    `name` for theirs (a blind position's pseudonym until a decision)."""
    org = session.get(Organisation, invitation.org_id)
    return {
        outcome: candidate_message(
            outcome,
            invitation=invitation,
            position=position,
            org=org.name if org else "",
            name=name,
        )
        for outcome in Outcome
    }


def record_decision(
    session: Session,
    *,
    user: User,
    invitation: Invitation,
    position: Position,
    data: DecisionCreate,
    settings: Settings,
) -> Decision:
    """The decision, its audit event and, if asked, the candidate's email, in one
    transaction. Raises Forbidden for a reviewer."""
    require_manager(user)
    decision = Decision(
        org_id=invitation.org_id,
        invitation_id=invitation.id or 0,
        outcome=data.outcome,
        reason=data.reason,
        decided_by=user.id or 0,
    )
    detail = data.outcome.value
    if data.tell_candidate:
        org = session.get(Organisation, invitation.org_id)
        body = data.message or candidate_message(
            data.outcome, invitation=invitation, position=position, org=org.name if org else ""
        )
        mail = send_mail(
            session,
            settings=settings,
            org_id=invitation.org_id,
            to=invitation.candidate_email,
            subject=SUBJECTS[data.outcome].format(position=position.title),
            body=body,
        )
        session.flush()
        decision.mail_id = mail.id
        detail += f"; candidate emailed ({mail.status})"
    session.add(decision)
    audit.record(
        session,
        org_id=invitation.org_id,
        actor=user.email,
        action="decision.record",
        target=f"invitation:{invitation.id}",
        detail=detail,
    )
    session.commit()
    session.refresh(decision)
    return decision


_HISTORY = (
    select(Decision, User.name)
    .join(User, col(User.id) == Decision.decided_by)
    .where(col(Decision.invitation_id) == bindparam("invitation_id"))
    .order_by(col(Decision.id).desc())
)


def history(session: Session, invitation: Invitation) -> list[DecisionView]:
    """The invitation's decisions, the standing one first."""
    rows = session.exec(_HISTORY, params={"invitation_id": invitation.id})
    return [DecisionView(decision, name) for decision, name in rows]
