"""Demo data for the embedded default: an organisation, staff, a position per track."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import Session, select
from worksample.db import Organisation, Role, User
from worksample.graders import list_exercise_dirs, load_exercise
from worksample.settings import Settings
from worksample.web.security import hash_password
from worksample.web.services import invitations, positions

DEMO_ORG = "Demo Company"
ADMIN_EMAIL = "admin@demo.example"
REVIEWER_EMAIL = "reviewer@demo.example"


@dataclass(frozen=True)
class Seeded:
    admin_password: str | None  # None when the demo existed already
    candidate_links: list[str]


def seed_demo(session: Session, *, settings: Settings) -> Seeded:
    if session.exec(select(User).where(User.email == ADMIN_EMAIL)).first() is not None:
        return Seeded(None, [])
    org = Organisation(name=DEMO_ORG)
    session.add(org)
    session.flush()
    password = (
        settings.demo_admin_password.get_secret_value()
        if settings.demo_admin_password
        else secrets.token_urlsafe(12)
    )
    admin = User(
        org_id=org.id or 0,
        email=ADMIN_EMAIL,
        name="Ada Admin",
        role=Role.admin,
        password_hash=hash_password(password),
    )
    reviewer = User(
        org_id=org.id or 0,
        email=REVIEWER_EMAIL,
        name="Rey Reviewer",
        role=Role.reviewer,
        password_hash=hash_password(password),
    )
    session.add_all([admin, reviewer])
    session.commit()
    links = []
    seen_tracks: set[str] = set()
    for path in list_exercise_dirs(settings.exercises_dir):
        exercise = load_exercise(path)
        track = exercise.manifest.track
        if track in seen_tracks:
            continue
        seen_tracks.add(track)
        title = "ML Engineer" if track == "ml" else "AI Engineer"
        position = positions.create_position(
            session,
            user=admin,
            exercises_dir=settings.exercises_dir,
            data=positions.PositionCreate(
                title=title,
                level="Senior",
                exercise_id=exercise.id,
                window_days=7,
                practice_runs=3,
                show_score=False,
            ),
        )
        _, token = invitations.invite(
            session,
            user=admin,
            position=position,
            settings=settings,
            data=invitations.InvitationCreate(
                candidate_email=f"candidate.{track}@demo.example",
                candidate_name=f"Casey Candidate ({track.upper()})",
            ),
        )
        links.append(f"{settings.base_url.rstrip('/')}/i/{token}")
    return Seeded(password, links)
