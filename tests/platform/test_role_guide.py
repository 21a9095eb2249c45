"""The role guide: its file is checked on load, its recommendation follows the
rule of docs/role-guide.md, and its page works as a plain GET form."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from factories import make_user
from fastapi.testclient import TestClient
from pages import sign_in, text
from sqlmodel import Session
from worksample.db import Organisation, Role, User
from worksample.web.services import role_guide
from worksample.web.services.errors import Invalid
from worksample.web.services.role_guide import (
    GUIDE_FILE,
    RoleGuideError,
    load_role_guide,
    read_answers,
    recommend,
)

ROOT = Path(__file__).parents[2]
DOC = (ROOT / "docs" / "role-guide.md").read_text()
# Pages read no table but the session's: SQLite is enough.
SQLITE_ONLY = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

# An LLM support assistant: answers from the help centre, looks up orders, on a hosted model.
SUPPORT_ASSISTANT = {
    "train_models": "no",
    "build_on_models": "core",
    "infrastructure": "none",
    "retrieval_tools": "core",
    "data": "documents",
    "quality": "reliability",
}
# A custom fraud model trained on the company's own transactions.
FRAUD_MODEL = {
    "train_models": "core",
    "build_on_models": "no",
    "infrastructure": "this_person",
    "retrieval_tools": "no",
    "data": "records",
    "quality": "metrics",
}
# Both at once: their own models, and an assistant on existing ones.
MIXED = {
    "train_models": "core",
    "build_on_models": "core",
    "infrastructure": "this_person",
    "retrieval_tools": "core",
    "data": "both",
    "quality": "both",
}


# --- the recommendation -----------------------------------------------------------


def test_an_llm_support_assistant_is_the_ai_track() -> None:
    rec = recommend(load_role_guide(), SUPPORT_ASSISTANT)
    assert (rec.kind, rec.tracks, rec.points) == ("ai", ("ai",), {"ml": 0, "ai": 12})
    assert rec.outcome.title == "The AI track: this is an AI engineer"
    assert rec.reasons[0].why == "Building the product on existing models is AI engineering."
    assert [r.ai for r in rec.reasons] == sorted((r.ai for r in rec.reasons), reverse=True)
    assert rec.side_note is None and rec.answered == 6


def test_a_custom_fraud_model_on_our_transactions_is_the_ml_track() -> None:
    rec = recommend(load_role_guide(), FRAUD_MODEL)
    assert (rec.kind, rec.tracks, rec.points) == ("ml", ("ml",), {"ml": 10, "ai": 0})
    assert "builds and maintains the systems that train, evaluate" in rec.outcome.text
    assert {r.why for r in rec.reasons} >= {
        "Training models on your own data is the centre of ML engineering.",
        "Judging models by held-out metrics is ML engineering.",
    }


def test_a_product_that_needs_both_jobs_gets_both_tracks_with_the_reasons_of_each() -> None:
    rec = recommend(load_role_guide(), MIXED)
    assert rec.kind == "both" and set(rec.tracks) == {"ml", "ai"}
    assert rec.points == {"ml": 8, "ai": 8}
    assert "mixes two jobs" in rec.outcome.title
    assert "Open two positions, one per track" in rec.outcome.text
    whys = {r.why for r in rec.reasons}
    assert "Training models on your own data is the centre of ML engineering." in whys
    assert "Retrieval, tool calls and agents are AI-engineering work." in whys


def test_a_side_of_the_job_is_named_but_not_recommended() -> None:
    # A fraud team that also builds a few features on a hosted model.
    answers = FRAUD_MODEL | {"build_on_models": "core", "data": "both"}
    rec = recommend(load_role_guide(), answers)
    assert (rec.kind, rec.points) == ("ml", {"ml": 9, "ai": 4})
    assert rec.side_note == (
        "The AI track has 4 points too, less than 50% of the ML track's 9: a side of this "
        "job rather than a second one. If that work is a real part of the job, treat it as "
        "two positions."
    )


def test_too_few_answers_are_unclear_and_recommend_no_track() -> None:
    rec = recommend(load_role_guide(), {"data": "documents"})
    assert (rec.kind, rec.tracks, rec.answered) == ("unclear", (), 1)
    assert rec.outcome.title == "Not enough to go on yet"


def test_the_thresholds_are_read_from_the_file(tmp_path: Path) -> None:
    data = GUIDE_FILE.read_text().replace("both_share = 0.5", "both_share = 1")
    guide = load_role_guide(write(tmp_path, data))
    answers = MIXED | {"data": "records"}  # ML 9, AI 7: no longer both
    assert recommend(load_role_guide(), answers).kind == "both"
    assert recommend(guide, answers).kind == "ml"


def test_answers_come_from_the_query_and_a_wrong_one_is_refused_with_the_choices() -> None:
    guide = load_role_guide()
    assert read_answers(guide, {"data": "records", "quality": "", "utm_source": "x"}) == {
        "data": "records"
    }
    with pytest.raises(Invalid) as refused:
        read_answers(guide, {"data": "maybe"})
    assert str(refused.value) == (
        "question 'data' has no answer 'maybe'; choose one of records, documents, both"
    )


# --- the file ---------------------------------------------------------------------


def write(tmp_path: Path, data: str) -> Path:
    path = tmp_path / "role_guide.toml"
    path.write_text(data)
    return path


def shipped() -> dict[str, Any]:
    return tomllib.loads(GUIDE_FILE.read_text())


def dump(data: dict[str, Any]) -> str:
    """The few TOML shapes the guide uses, written back."""

    def value(v: Any) -> str:
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return repr(v)

    lines = []
    for key, v in data.items():
        if not isinstance(v, dict | list):
            lines.append(f"{key} = {value(v)}")
    for key, v in data.items():
        if isinstance(v, dict):
            for sub, inner in v.items():
                if isinstance(inner, dict):
                    lines.append(f"[{key}.{sub}]")
                    lines += [f"{k} = {value(x)}" for k, x in inner.items()]
                else:
                    lines.append(f"{key}.{sub} = {value(inner)}")
    for question in data.get("questions", []):
        lines.append("[[questions]]")
        lines += [f"{k} = {value(x)}" for k, x in question.items() if k != "answers"]
        for answer in question.get("answers", []):
            lines.append("[[questions.answers]]")
            lines += [f"{k} = {value(x)}" for k, x in answer.items()]
    return "\n".join(lines) + "\n"


def refusal(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> str:
    data = shipped()
    change(data)
    path = write(tmp_path, dump(data))
    with pytest.raises(RoleGuideError) as refused:
        load_role_guide(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: "), message
    return message


def test_the_shipped_guide_loads_and_round_trips_through_the_tests_writer(tmp_path: Path) -> None:
    guide = load_role_guide()
    assert len(guide.questions) == 6
    assert load_role_guide(write(tmp_path, dump(shipped()))) == guide


def test_an_unknown_field_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, lambda d: d["questions"][0]["answers"][1].update(weight=2))
    assert message.endswith(
        "questions.0.answers.1.weight: unknown field (see docs/role-guide.md for the fields "
        "the guide takes)"
    )


def test_a_missing_outcome_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, lambda d: d["outcomes"].pop("both"))
    assert message.endswith("outcomes.both: required field is missing")


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, lambda d: d["questions"][4]["answers"][2].update(id="records"))
    assert message.endswith("questions.4: question 'data': answer id(s) records given twice")
    message = refusal(tmp_path, lambda d: d["questions"][1].update(id="train_models"))
    assert message.endswith("(top level): question id(s) train_models given twice")


def test_points_without_a_reason_are_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, lambda d: d["questions"][0]["answers"][0].pop("why"))
    assert "questions.0.answers.0: answer 'core' gives points but no `why`" in message


def test_a_track_no_answers_can_reach_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, lambda d: d["thresholds"].update(recommend_at=11))
    assert message.endswith(
        "(top level): the ML track can get at most 10 points, below thresholds.recommend_at "
        "= 11: no answers could ever recommend it; raise its answers' points or lower the "
        "threshold"
    )


def test_out_of_range_numbers_are_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, lambda d: d["thresholds"].update(both_share=1.5))
    assert "thresholds.both_share: Input should be less than or equal to 1" in message
    message = refusal(tmp_path, lambda d: d["questions"][0]["answers"][0].update(ml=-1))
    assert "questions.0.answers.0.ml: Input should be greater than or equal to 0" in message


def test_a_side_note_with_an_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, lambda d: d.update(side_note="{track} beats {loser}"))
    assert message.endswith(
        "side_note: unknown placeholder {loser}; use {other}, {other_points}, {points}, "
        "{share}, {track}"
    )


def test_a_file_that_is_not_toml_or_is_missing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RoleGuideError, match=r"role_guide\.toml: not valid TOML: "):
        load_role_guide(write(tmp_path, "[thresholds\n"))
    with pytest.raises(RoleGuideError, match=r"nowhere\.toml: file is missing"):
        load_role_guide(tmp_path / "nowhere.toml")


def test_every_field_of_the_file_is_documented() -> None:
    documented = set(re.findall(r"^\| `([a-z_.*]+)`", DOC, flags=re.MULTILINE))
    names = {
        *role_guide.RoleGuide.model_fields,
        *(f"thresholds.{f}" for f in role_guide.Thresholds.model_fields),
        *(f"outcomes.*.{f}" for f in role_guide.Outcome.model_fields),
        *(f"questions.{f}" for f in role_guide.Question.model_fields),
        *(f"questions.answers.{f}" for f in role_guide.Answer.model_fields),
    }
    assert names <= documented, f"undocumented in docs/role-guide.md: {names - documented}"


# --- the page ---------------------------------------------------------------------


def manager(db_session: Session, admin: User) -> User:
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    return make_user(db_session, org, role=Role.hiring_manager)


@SQLITE_ONLY
def test_the_page_asks_the_questions_and_can_be_skipped(
    client: TestClient, db_session: Session, admin: User
) -> None:
    sign_in(client, db_session, manager(db_session, admin))
    page = text(client.get("/role-guide"))
    assert '<form method="get" action="/role-guide"' in page
    for question in load_role_guide().questions:
        assert question.text in page
    assert 'href="/positions#new">skip it and create the position</a>' in page
    assert "Use this exercise" not in page  # nothing recommended yet


@SQLITE_ONLY
def test_answers_in_the_query_recommend_the_ai_track_and_its_exercises(
    client: TestClient, db_session: Session, admin: User
) -> None:
    sign_in(client, db_session, manager(db_session, admin))
    page = text(client.get("/role-guide", params=SUPPORT_ASSISTANT))
    assert "The AI track: this is an AI engineer" in page
    assert "Building the product on existing models is AI engineering. (+3 AI)" in re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", "", page)
    )
    assert "AI-track exercises that fit" in page and "ML-track exercises" not in page
    assert "Answer from documents" in page and "Add numbers" not in page  # mini-chat, not mini-add
    assert "About 0.1 hours of the candidate's time" in page
    assert 'href="/positions?exercise_id=mini-chat#new">Use this exercise</a>' in page
    assert 'value="core" checked' in page  # the answers stay chosen


@SQLITE_ONLY
def test_both_tracks_list_the_exercises_of_each(
    client: TestClient, db_session: Session, admin: User
) -> None:
    sign_in(client, db_session, admin)
    page = text(client.get("/role-guide", params=MIXED))
    assert "Both tracks: this posting mixes two jobs" in page
    assert page.index("ML-track exercises that fit") < page.index("Add numbers")
    assert page.index("AI-track exercises that fit") < page.index("Answer from documents")


@SQLITE_ONLY
def test_htmx_gets_the_recommendation_alone(
    client: TestClient, db_session: Session, admin: User
) -> None:
    sign_in(client, db_session, admin)
    answer = client.get("/role-guide", params=FRAUD_MODEL, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "<html" not in answer.text
    assert "The ML track: this is an ML engineer" in text(answer)
    assert answer.headers["vary"] == "HX-Request"


@SQLITE_ONLY
def test_a_wrong_answer_is_a_page_that_says_which(
    client: TestClient, db_session: Session, admin: User
) -> None:
    sign_in(client, db_session, admin)
    answer = client.get("/role-guide", params={"data": "maybe"})
    assert answer.status_code == 400
    assert "question 'data' has no answer 'maybe'; choose one of records" in text(answer)


@SQLITE_ONLY
def test_reviewers_read_the_guide_but_are_not_offered_to_create_a_position(
    client: TestClient, db_session: Session, admin: User
) -> None:
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    sign_in(client, db_session, make_user(db_session, org, role=Role.reviewer))
    page = text(client.get("/role-guide", params=SUPPORT_ASSISTANT))
    assert "The AI track" in page and "Use this exercise" not in page
    assert "Preview as candidate" in page
