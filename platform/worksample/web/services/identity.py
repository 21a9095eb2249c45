"""Who a candidate is, as a staff page may show it: blind positions.

In a blind position every staff member sees a pseudonym instead of the
candidate's name, email and uploaded file names, so that the first judgment of
the work is of the work. Identity shows to everyone once a decision is
recorded; before that an admin or hiring manager may reveal one candidate to
themselves (`reveal`, in the audit trail: who revealed whom, when).

Pages never read `candidate_name`, `candidate_email` or `filename` directly:
`render` puts an `Identities` in every staff page's context as `who`, and the
templates ask it (`who.name(inv)`, `who.email(inv)`, `who.filename(sub, inv)`).
What the candidate uploaded (a DESIGN.md signed with a name) is not scrubbed.
"""

from __future__ import annotations

import hashlib

from sqlmodel import Session, col, select
from worksample.db import Decision, Invitation, Position, Reveal, Submission, User
from worksample.web.services import audit
from worksample.web.services.errors import Forbidden, Invalid
from worksample.web.services.positions import MANAGERS

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def pseudonym(invitation: Invitation) -> str:
    """A stable name for a candidate of a blind position, e.g. "Candidate K7QXM"."""
    digest = hashlib.sha256(
        f"worksample:{invitation.position_id}:{invitation.id}".encode()
    ).digest()
    return "Candidate " + "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:5])


class Identities:
    """For one staff user in one request: whose identity they may see. Two
    queries per blind position the page shows (its decided invitations, and the
    ones this user revealed), none for the others, whatever the rows."""

    def __init__(self, session: Session, user: User) -> None:
        self.session, self.user = session, user
        self._shown: dict[int, set[int]] = {}  # blind position id -> invitation ids shown

    def visible(self, invitation: Invitation) -> bool:
        """True when this user may see who the candidate is."""
        position = self.session.get(Position, invitation.position_id)  # in the identity map
        if position is None or not position.blind:
            return True
        shown = self._shown.get(position.id or 0)
        if shown is None:
            shown = self._shown[position.id or 0] = self._shown_in(position)
        return invitation.id in shown

    def _shown_in(self, position: Position) -> set[int]:
        of_position = col(Invitation.position_id) == position.id
        decided = select(Decision.invitation_id).join(
            Invitation, col(Invitation.id) == Decision.invitation_id
        )
        revealed = select(Reveal.invitation_id).join(
            Invitation, col(Invitation.id) == Reveal.invitation_id
        )
        return set(self.session.exec(decided.where(of_position))) | set(
            self.session.exec(revealed.where(of_position, col(Reveal.user_id) == self.user.id))
        )

    def hidden(self, invitation: Invitation) -> bool:
        return not self.visible(invitation)

    def can_reveal(self, invitation: Invitation) -> bool:
        return self.hidden(invitation) and self.user.role in MANAGERS

    def name(self, invitation: Invitation) -> str:
        return invitation.candidate_name if self.visible(invitation) else pseudonym(invitation)

    def email(self, invitation: Invitation) -> str:
        return invitation.candidate_email if self.visible(invitation) else "email hidden"

    def filename(self, submission: Submission, invitation: Invitation) -> str:
        if self.visible(invitation):
            return submission.filename
        return f"upload-{submission.id}.zip"


def reveal(session: Session, *, user: User, invitation: Invitation) -> None:
    """Show a blind position's candidate to this admin or hiring manager, recorded."""
    if user.role not in MANAGERS:
        raise Forbidden("only admins and hiring managers may reveal a candidate")
    position = session.get(Position, invitation.position_id)
    if position is None or not position.blind:
        raise Invalid("this position is not blind: everyone sees who the candidate is")
    known = session.exec(
        select(Reveal.id).where(Reveal.invitation_id == invitation.id, Reveal.user_id == user.id)
    ).first()
    if known is not None:
        return
    session.add(
        Reveal(org_id=invitation.org_id, invitation_id=invitation.id or 0, user_id=user.id or 0)
    )
    audit.record(
        session,
        org_id=invitation.org_id,
        actor=user.email,
        action="identity.reveal",
        target=f"invitation:{invitation.id}",
        detail=f"{pseudonym(invitation)} shown to {user.email}",
    )
    session.commit()
