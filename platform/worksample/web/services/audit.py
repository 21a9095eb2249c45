"""The audit trail: every staff action, who, what, when."""

from __future__ import annotations

from sqlmodel import Session, col, select
from worksample.db import AuditEvent


def record(
    session: Session, *, org_id: int, actor: str, action: str, target: str, detail: str = ""
) -> None:
    session.add(AuditEvent(org_id=org_id, actor=actor, action=action, target=target, detail=detail))


def list_events(session: Session, *, org_id: int, limit: int = 200) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.org_id == org_id)
        .order_by(col(AuditEvent.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))
