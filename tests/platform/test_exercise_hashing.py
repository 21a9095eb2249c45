"""Pages that show exercises never hash an exercise folder per request.

An exercise's content hash reads every byte of its folder (tens of ms for a
real one); it is computed when a grading or a kit needs it, once per process
and content.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from factories import make_invitation, make_org, make_position, make_user
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pages import open_link, sign_in, text
from sqlmodel import Session
from worksample.db import Role
from worksample.graders import _exercise


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every exercise folder whose content hash is asked for from now on, whether
    or not the process has it already."""
    seen: list[Path] = []
    real = _exercise.content_hash

    def spy(root: Path) -> str:
        seen.append(root)
        return real(root)

    monkeypatch.setattr(_exercise, "content_hash", spy)
    return seen


def test_positions_and_the_candidates_page_hash_no_exercise(
    make_app: Callable[..., FastAPI], db_session: Session, hashed: list[Path]
) -> None:
    app = make_app()
    org = make_org(db_session)
    position = make_position(db_session, org)
    _, link = make_invitation(db_session, position)
    admin = make_user(db_session, org, role=Role.admin)

    staff = TestClient(app, follow_redirects=False)
    sign_in(staff, db_session, admin)
    candidate = TestClient(app, follow_redirects=False)
    open_link(candidate, link)
    for _ in range(3):
        assert position.title in text(staff.get("/positions"))
        assert staff.get(f"/positions/{position.id}").status_code == 200
        assert candidate.get("/c").status_code == 200
    assert hashed == []


def test_a_kit_is_hashed_once_per_content(
    make_app: Callable[..., FastAPI], db_session: Session
) -> None:
    _exercise._hash_folder.cache_clear()
    app = make_app()
    org = make_org(db_session)
    _, link = make_invitation(db_session, make_position(db_session, org))
    candidate = TestClient(app, follow_redirects=False)
    open_link(candidate, link)
    first = candidate.get("/c/kit")
    assert first.status_code == 200
    for _ in range(3):
        assert candidate.get("/c/kit").content == first.content
    # Read byte by byte at most once; after that, from the process's cache.
    assert _exercise._hash_folder.cache_info().misses <= 1
