"""Invitations: a candidate's magic link (128-bit, stored hashed), deadline, revocation."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, EmailStr, Field
from sqlmodel import Session, select
from worksample.db import Invitation, Position, User, WebSession, utcnow
from worksample.settings import Settings
from worksample.web.security import new_token, token_hash
from worksample.web.services import audit, notices
from worksample.web.services.auth import revoke_invitation_sessions
from worksample.web.services.errors import Invalid, NotFound
from worksample.web.services.mail import send_mail
from worksample.web.services.notices import NewLink
from worksample.web.services.positions import require_manager
from worksample.web.text import OneLine


class InvitationCreate(BaseModel):
    candidate_email: EmailStr
    candidate_name: OneLine = Field(min_length=1, max_length=200)


def invite(
    session: Session,
    *,
    user: User,
    position: Position,
    data: InvitationCreate,
    settings: Settings,
    web: WebSession | None = None,
) -> tuple[Invitation, str]:
    """A new invitation, its link mailed (or kept in the outbox); with `web`,
    the link is also shown once to whoever made it, on their next page."""
    require_manager(user)
    token = new_token()
    invitation = Invitation(
        org_id=user.org_id,
        position_id=position.id or 0,
        candidate_email=str(data.candidate_email).lower(),
        candidate_name=data.candidate_name.strip(),
        token_hash=token_hash(token),
        deadline_at=utcnow() + timedelta(days=position.window_days),
    )
    session.add(invitation)
    session.flush()
    _mail_link(
        session, settings=settings, position=position, invitation=invitation, token=token, web=web
    )
    audit.record(
        session,
        org_id=user.org_id,
        actor=user.email,
        action="invitation.create",
        target=f"invitation:{invitation.id}",
        detail=invitation.candidate_email,
    )
    session.commit()
    session.refresh(invitation)
    return invitation, token


def get_invitation(session: Session, *, user: User, invitation_id: int) -> Invitation:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.org_id != user.org_id:
        raise NotFound
    return invitation


def resend(
    session: Session,
    *,
    user: User,
    invitation: Invitation,
    settings: Settings,
    web: WebSession | None = None,
) -> str:
    """A new link (only the hash of the old one is kept, so it cannot be re-sent).

    A resend is how a leaked link is replaced: every session the old link
    opened ends too, or a browser that had it would keep working for 30 days.
    The candidate opens the new link and starts where they were."""
    require_manager(user)
    if invitation.revoked_at:
        raise Invalid("this invitation is revoked")
    token = new_token()
    invitation.token_hash = token_hash(token)
    session.add(invitation)
    revoke_invitation_sessions(session, invitation.id or 0)
    position = session.get(Position, invitation.position_id)
    assert position is not None
    _mail_link(
        session, settings=settings, position=position, invitation=invitation, token=token, web=web
    )
    audit.record(
        session,
        org_id=user.org_id,
        actor=user.email,
        action="invitation.resend",
        target=f"invitation:{invitation.id}",
    )
    session.commit()
    return token


def revoke(session: Session, *, user: User, invitation: Invitation) -> None:
    require_manager(user)
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        session.add(invitation)
        revoke_invitation_sessions(session, invitation.id or 0)
        audit.record(
            session,
            org_id=user.org_id,
            actor=user.email,
            action="invitation.revoke",
            target=f"invitation:{invitation.id}",
        )
        session.commit()


def extend(session: Session, *, user: User, invitation: Invitation, days: int) -> None:
    require_manager(user)
    if invitation.revoked_at:
        raise Invalid("this invitation is revoked")
    if not 1 <= days <= 60:
        raise Invalid("extend by 1 to 60 days")
    base = max(invitation.deadline_at, utcnow())
    invitation.deadline_at = base + timedelta(days=days)
    session.add(invitation)
    audit.record(
        session,
        org_id=user.org_id,
        actor=user.email,
        action="invitation.extend",
        target=f"invitation:{invitation.id}",
        detail=f"+{days} days",
    )
    session.commit()


def redeem(session: Session, *, token: str) -> Invitation | None:
    """The invitation a link's token opens, if it is still valid."""
    invitation = session.exec(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    ).first()
    if invitation is None or invitation.revoked_at is not None:
        return None
    return invitation


def mark_opened(session: Session, invitation: Invitation) -> None:
    """The first time the link is redeemed, for the candidate's file (committed
    with the session the redemption starts)."""
    if invitation.opened_at is None:
        invitation.opened_at = utcnow()
        session.add(invitation)


def _mail_link(
    session: Session,
    *,
    settings: Settings,
    position: Position,
    invitation: Invitation,
    token: str,
    web: WebSession | None,
) -> None:
    link = f"{settings.base_url.rstrip('/')}/i/{token}"
    body = (
        f"Hello {invitation.candidate_name},\n\n"
        f"You are invited to a take-home exercise for the position {position.title} "
        f"({position.level}).\n\nOpen your personal link to read the brief and start:\n{link}\n\n"
        f"Deadline: {invitation.deadline_at:%Y-%m-%d %H:%M} UTC. "
        "The link is personal; do not share it.\n"
    )
    mail = send_mail(
        session,
        settings=settings,
        org_id=invitation.org_id,
        to=invitation.candidate_email,
        subject=f"Your exercise for {position.title}",
        body=body,
        secret=link,
    )
    if web is not None:
        # A link the mail server took is not kept anywhere (see send_mail);
        # one it did not is in the outbox already, and now also in the notice.
        emailed = mail.status == "sent"
        notice = NewLink(invitation.candidate_name, position.title, "" if emailed else link)
        notices.leave(session, web, notice)
