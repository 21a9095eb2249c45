"""The exercise catalogue: every exercise with what it tells apart, its scoring,
knock-outs, rubric and validation status; the record `exercises validate`
leaves; the preview of the candidate's page and its kit; the new-position
form chosen from it."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories import EXERCISES, MINI_ADD, make_invitation, make_position, make_user
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pages import enter_as_candidate, sign_in, text
from sqlmodel import Session
from worksample.db import Organisation, Role, User
from worksample.graders import Finding, build_starter_kit, content_hash, load_exercise
from worksample.web.services.validation_record import (
    ValidationRecordError,
    read_validation,
    record_validation,
    validation_path,
)

INVALID = Path(__file__).parents[1] / "graders" / "invalid_exercises"
# Pages read no table but the session's: SQLite is enough.
SQLITE_ONLY = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
WHEN = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
# What `validate_exercise(mini-add)` found, word for word (local backend).
MINI_ADD_FINDINGS = [
    Finding("reference scores 100", True, "score 100.0", 100.0),
    Finding("reference is graded the same twice", True, "identical outcomes"),
    Finding("starter scores at most 20", True, "graded, score 0.0", 0.0),
    Finding("critical negative_sums names hidden tests", True, "cap 40"),
    Finding("faulty/no-cli", True, "fails 2 test(s) as declared, score 56.25", 56.25),
    Finding(
        "faulty/off-by-one",
        True,
        "fails 1 test(s) as declared, score 40; knock-out negative_sums (cap 40)",
        40.0,
        ("negative_sums",),
    ),
    Finding(
        "weak/careless",
        True,
        "fails 2 test(s) as declared, score 37.5; knock-out negative_sums (cap 40)",
        37.5,
        ("negative_sums",),
    ),
    Finding(
        "weak/half-done",
        True,
        "fails 3 test(s) as declared, score 18.75; knock-out negative_sums (cap 40)",
        18.75,
        ("negative_sums",),
    ),
    Finding("at least 2 weak-candidate profiles", True, "2 in weak/"),
    Finding(
        "critical negative_sums is proven by a known-bad solution",
        True,
        "faulty/off-by-one, weak/careless, weak/half-done",
    ),
]


def data_dir(client: TestClient) -> Path:
    path: Path = client.app.state.settings.data_dir  # type: ignore[attr-defined]
    return path


def plain(response_text: str) -> str:
    """The page's words without tags, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response_text))


def colleague(db_session: Session, admin: User, role: Role) -> User:
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    return make_user(db_session, org, role=role)


# --- the validation record ----------------------------------------------------------


def test_a_validation_is_recorded_with_every_solutions_score(tmp_path: Path) -> None:
    exercise = load_exercise(MINI_ADD)
    path = record_validation(
        exercise=exercise, findings=MINI_ADD_FINDINGS, data_dir=tmp_path, when=WHEN
    )
    assert path == tmp_path / "validations" / "mini-add.json"
    assert [p.name for p in path.parent.iterdir()] == ["mini-add.json"]  # no scratch left
    assert json.loads(path.read_text())["content_hash"] == exercise.content_hash
    record = read_validation(data_dir=tmp_path, exercise_id="mini-add")
    assert record is not None
    assert (record.version, record.validated_at, record.ok, record.problems) == (
        "1.0",
        WHEN,
        True,
        0,
    )
    scores = {s.name: (s.kind, s.score, s.knockouts) for s in record.solutions}
    assert scores == {
        "reference": ("reference", 100.0, []),
        "starter": ("starter", 0.0, []),
        "faulty/no-cli": ("faulty", 56.25, []),
        "faulty/off-by-one": ("faulty", 40.0, ["negative_sums"]),
        "weak/careless": ("weak", 37.5, ["negative_sums"]),
        "weak/half-done": ("weak", 18.75, ["negative_sums"]),
    }
    assert [c.check for c in record.checks] == [f.check for f in MINI_ADD_FINDINGS]


def test_a_problem_is_counted_and_a_score_the_finding_does_not_give_is_none(
    tmp_path: Path,
) -> None:
    findings = [
        Finding("reference scores 100", False, "error: the suite did not start"),
        Finding(
            "faulty/off-by-one",
            False,
            "should fail but passes: ['hidden/test_hidden.py::test_sum_command']; "
            "fails but should pass: ['hidden/test_hidden.py::test_add_negative']",
        ),
        Finding("weak/careless", False, "score 72 outside its band [0, 60]", 72.0),
    ]
    record_validation(
        exercise=load_exercise(MINI_ADD), findings=findings, data_dir=tmp_path, when=WHEN
    )
    record = read_validation(data_dir=tmp_path, exercise_id="mini-add")
    assert record is not None and not record.ok and record.problems == 3
    assert [(s.name, s.score, s.ok) for s in record.solutions] == [
        ("reference", None, False),
        ("faulty/off-by-one", None, False),
        ("weak/careless", 72.0, False),
    ]


def test_a_write_that_fails_keeps_the_last_record_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exercise = load_exercise(MINI_ADD)
    path = record_validation(
        exercise=exercise, findings=MINI_ADD_FINDINGS, data_dir=tmp_path, when=WHEN
    )
    before = path.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        record_validation(exercise=exercise, findings=MINI_ADD_FINDINGS[:1], data_dir=tmp_path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["mini-add.json"]


def test_a_damaged_record_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = validation_path(tmp_path, "mini-add")
    path.parent.mkdir(parents=True)
    path.write_text('{"format": 1, "exercise_id": "mini-add"')
    with pytest.raises(ValidationRecordError) as refused:
        read_validation(data_dir=tmp_path, exercise_id="mini-add")
    assert str(refused.value).startswith(f"{path}: not a validation record (")
    assert str(refused.value).endswith("run `worksample exercises validate mini-add` again")
    record_validation(
        exercise=load_exercise(MINI_ADD), findings=MINI_ADD_FINDINGS, data_dir=tmp_path
    )
    shutil.copyfile(path, validation_path(tmp_path, "mini-chat"))
    with pytest.raises(ValidationRecordError, match="holds the record of 'mini-add'"):
        read_validation(data_dir=tmp_path, exercise_id="mini-chat")
    with pytest.raises(ValueError, match="is not an exercise id"):
        validation_path(tmp_path, "../etc")


# --- the catalogue's pages ----------------------------------------------------------


@SQLITE_ONLY
def test_the_catalogue_lists_every_exercise_with_its_track_effort_and_summary(
    client: TestClient, db_session: Session, admin: User
) -> None:
    sign_in(client, db_session, colleague(db_session, admin, Role.reviewer))
    page = text(client.get("/exercises"))
    for exercise_id in ("mini-add", "mini-chat"):
        manifest = load_exercise(EXERCISES / exercise_id).manifest
        assert f'<a href="/exercises/{exercise_id}">{manifest.title}</a>' in page
        assert manifest.summary in page
        assert f'href="/exercises/{exercise_id}/preview">Preview as candidate' in page
    assert page.count("not validated on this installation") == 2
    assert "ML track" in page and "AI track" in page
    assert "About 0.1 hours of the candidate's time" in page
    assert "Use this exercise" not in page  # a reviewer creates no positions


@SQLITE_ONLY
def test_an_exercise_shows_its_scoring_knockouts_and_rubric(
    client: TestClient, db_session: Session, admin: User
) -> None:
    sign_in(client, db_session, admin)
    answer = client.get("/exercises/mini-add")
    assert answer.status_code == 200
    words = plain(text(answer))
    manifest = load_exercise(MINI_ADD).manifest
    assert "correctness 75 points add() and the sum command give the right answers." in words
    assert "robustness 25 points Bad input gives a clean error." in words
    assert "adds wrongly when a number is negative 40 1 hidden test" in words
    for criterion in manifest.rubric.criteria:
        assert criterion.name in words and criterion.looks_at in words
        assert all(level in words for level in criterion.levels)
    assert "Shared logic · weight 2, 67% of the rubric total" in words
    assert manifest.rubric.guidance in words
    assert f"content {content_hash(MINI_ADD)[:12]}" in words
    assert "worksample exercises validate mini-add has not run here" in words
    assert 'href="/positions?exercise_id=mini-add#new">Use this exercise' in answer.text


@SQLITE_ONLY
def test_a_validated_exercise_shows_the_scores_of_its_solutions(
    client: TestClient, db_session: Session, admin: User
) -> None:
    record_validation(
        exercise=load_exercise(MINI_ADD),
        findings=MINI_ADD_FINDINGS,
        data_dir=data_dir(client),
        when=WHEN,
    )
    sign_in(client, db_session, admin)
    listed = plain(text(client.get("/exercises")))
    assert "validated on 2025-03-04" in listed
    assert listed.count("not validated on this installation") == 1  # mini-chat
    words = plain(text(client.get("/exercises/mini-add")))
    assert "validated on 2025-03-04 10:30 UTC · version 1.0" in words
    assert "every check held" in words
    assert "faulty/off-by-one fail its declared tests (one defect) 40 adds wrongly" in words
    assert "weak/half-done land in its band (a weak candidate) 18.75" in words
    assert "reference score 100 100 " in words
    assert "older version" not in words


@SQLITE_ONLY
def test_an_exercise_changed_since_its_validation_says_so(
    make_app: Callable[..., FastAPI], db_session: Session, admin: User, tmp_path: Path
) -> None:
    exercises = tmp_path / "exercises"
    shutil.copytree(EXERCISES, exercises)
    app = make_app(exercises_dir=exercises)
    with TestClient(app, follow_redirects=False) as client:
        record_validation(
            exercise=load_exercise(exercises / "mini-add"),
            findings=MINI_ADD_FINDINGS,
            data_dir=data_dir(client),
            when=WHEN,
        )
        brief = exercises / "mini-add" / "brief.md"
        brief.write_text(brief.read_text() + "\nOne more requirement.\n")
        sign_in(client, db_session, admin)
        words = plain(text(client.get("/exercises/mini-add")))
    assert "validated for an older version" in words
    assert f"content {content_hash(MINI_ADD)[:12]} ); the exercise is now version 1.0" in words
    assert f"(content {content_hash(exercises / 'mini-add')[:12]} )" in words


@SQLITE_ONLY
def test_a_damaged_record_and_a_broken_exercise_are_shown_as_such(
    make_app: Callable[..., FastAPI], db_session: Session, admin: User, tmp_path: Path
) -> None:
    exercises = tmp_path / "exercises"
    shutil.copytree(EXERCISES, exercises)
    shutil.copytree(INVALID / "unknown-field", exercises / "unknown-field")
    app = make_app(exercises_dir=exercises)
    with TestClient(app, follow_redirects=False) as client:
        path = validation_path(data_dir(client), "mini-chat")
        path.parent.mkdir(parents=True)
        path.write_text("not json")
        sign_in(client, db_session, admin)
        listed = text(client.get("/exercises"))
        assert "validation record unreadable" in listed
        assert "<h3>unknown-field</h3>" in listed and "unknown field" in listed
        assert client.get("/exercises/unknown-field").status_code == 404
        assert "not a validation record" in text(client.get("/exercises/mini-chat"))
        sign_in(client, db_session, colleague(db_session, admin, Role.hiring_manager))
        listed = text(client.get("/exercises"))
    assert "<h3>unknown-field</h3>" in listed and "an admin sees why" in listed
    assert "exercise.toml" not in listed  # the error (and its paths) is for admins


@SQLITE_ONLY
@pytest.mark.parametrize("path", ["/exercises/no-such", "/exercises/Mini-Add", "/exercises/x"])
def test_an_unknown_exercise_is_not_found(
    client: TestClient, db_session: Session, admin: User, path: str
) -> None:
    sign_in(client, db_session, admin)
    for suffix in ("", "/preview", "/kit"):
        assert client.get(path + suffix).status_code == 404


@SQLITE_ONLY
def test_a_candidate_cannot_open_the_catalogue(
    client: TestClient, db_session: Session, admin: User
) -> None:
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    invitation, _ = make_invitation(db_session, make_position(db_session, org))
    enter_as_candidate(client, db_session, invitation)
    for path in ("/exercises", "/exercises/mini-add/preview", "/exercises/mini-add/kit"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


# --- the preview --------------------------------------------------------------------


@SQLITE_ONLY
def test_the_preview_is_the_candidates_page_with_uploads_disabled(
    client: TestClient, db_session: Session, admin: User
) -> None:
    sign_in(client, db_session, colleague(db_session, admin, Role.reviewer))
    answer = client.get("/exercises/mini-add/preview")
    assert answer.status_code == 200
    page = text(answer)
    assert "Preview: this is what a candidate sees" in page
    assert "<h1>Add numbers " in page
    brief = (MINI_ADD / "brief.md").read_text().splitlines()[0].lstrip("# ")
    assert brief in page
    assert re.search(r"Deadline: <strong>\d{4}-\d\d-\d\d \d\d:\d\d UTC</strong>", page)
    assert "expected effort about 0.1 hours" in page
    assert 'href="/exercises/mini-add/kit">Download the starter kit</a>' in page
    assert "Start the clock" not in page.split("</p>", 1)[1]  # only the banner speaks of it
    inputs = re.findall(r"<input [^>]*type=\"(?:file|checkbox)\"[^>]*>", page)
    buttons = re.findall(r"<button type=\"submit\"[^>]*>(?:Run public tests|Submit final)", page)
    assert len(inputs) == 3 and all(" disabled" in i for i in inputs)
    assert len(buttons) == 2 and all("disabled" in b for b in buttons)
    assert 'href="/positions">Positions</a>' in page  # staff's own header


@SQLITE_ONLY
def test_the_preview_offers_the_very_kit_a_candidate_downloads(
    client: TestClient, db_session: Session, admin: User
) -> None:
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    invitation, _ = make_invitation(db_session, make_position(db_session, org))
    sign_in(client, db_session, admin)
    staff_kit = client.get("/exercises/mini-add/kit")
    assert staff_kit.status_code == 200
    assert staff_kit.headers["content-type"] == "application/zip"
    assert staff_kit.headers["content-disposition"] == 'attachment; filename="mini-add-starter.zip"'
    enter_as_candidate(client, db_session, invitation)
    candidate_kit = client.get("/c/kit")
    assert candidate_kit.status_code == 200
    assert staff_kit.content == candidate_kit.content == build_starter_kit(load_exercise(MINI_ADD))


# --- the new-position form, chosen from the catalogue or the role guide --------------


@SQLITE_ONLY
def test_use_this_exercise_prefills_the_new_position_form(
    client: TestClient, db_session: Session, admin: User
) -> None:
    sign_in(client, db_session, colleague(db_session, admin, Role.hiring_manager))
    page = text(client.get("/positions", params={"exercise_id": "mini-chat"}))
    assert '<option value="mini-chat" selected>' in page
    assert '<option value="mini-add" selected>' not in page
    assert '<optgroup label="AI track">' in page and '<optgroup label="ML track">' in page
    assert "the AI track , with Answer from documents" in plain(page)
    unguided = text(client.get("/positions", params={"exercise_id": "no-such"}))
    assert " selected>" not in unguided
    assert '<a href="/role-guide">Answer the role guide</a>' in unguided
