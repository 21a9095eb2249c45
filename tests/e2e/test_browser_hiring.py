"""The hiring team's side in Chromium: a hiring manager answers the role guide
for two products and gets the AI track, then the ML track, and creates the
position from the recommendation; the guide works without JavaScript; the
catalogue shows an exercise's scoring and validation, and its preview is the
candidate's page with the kit downloadable and the uploads disabled."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browsing import log_in, shot
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select
from worksample.db import Organisation, Role, User, make_engine
from worksample.graders import Finding, load_exercise
from worksample.web.security import hash_password
from worksample.web.services.demo import DEMO_ORG
from worksample.web.services.validation_record import record_validation

pytestmark = pytest.mark.browser

MANAGER = "hana.hiring@demo.example"
MINI_ADD = Path(__file__).parents[1] / "graders" / "exercises" / "mini-add"
SUPPORT_ASSISTANT = {
    "train or fine-tune": "No, we use existing models as they are",
    "build features on top": "Yes, that is the product",
    "builds and runs the systems": "Nobody: we call hosted models",
    "retrieve documents": "Yes, that is what it does",
    "start from": "Documents, conversations, a knowledge base",
    "know the work is good": (
        "Answers are grounded, safe and within budget, though the model's output varies"
    ),
}
FRAUD_MODEL = {
    "train or fine-tune": "Yes, that is the core of the job",
    "build features on top": "No",
    "builds and runs the systems": "This person",
    "retrieve documents": "No",
    "start from": "Records of our own: transactions, events, sensor readings, labels",
    "know the work is good": "Metrics on held-out data: AUC, precision, calibration, drift",
}


@pytest.fixture(scope="module")
def manager(server: Any) -> Iterator[str]:
    """A hiring manager of the demo organisation (the demo seeds an admin and a reviewer)."""
    engine = make_engine(f"sqlite:///{Path(server.data_dir).resolve() / 'worksample.db'}")
    with Session(engine) as session:
        if session.exec(select(User).where(User.email == MANAGER)).first() is None:
            org = session.exec(select(Organisation).where(Organisation.name == DEMO_ORG)).one()
            session.add(
                User(
                    org_id=org.id or 0,
                    email=MANAGER,
                    name="Hana Hiring",
                    role=Role.hiring_manager,
                    password_hash=hash_password(server.password),
                )
            )
            session.commit()
    engine.dispose()
    yield MANAGER


def answer(page: Page, answers: dict[str, str]) -> None:
    for question, label in answers.items():
        group = page.get_by_role("group", name=re.compile(re.escape(question)))
        group.get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Recommend a track").click()


def test_the_role_guide_recommends_a_track_and_fills_in_the_new_position(
    server: Any, browser: Browser, shots: Path, manager: str
) -> None:
    context = browser.new_context()
    page = context.new_page()
    log_in(page, server, manager)
    page.get_by_role("link", name="Answer the role guide").click()
    expect(page.get_by_role("heading", name="Role guide", exact=True)).to_be_visible()

    # An LLM support assistant: the AI track, and only AI-track exercises.
    answer(page, SUPPORT_ASSISTANT)
    result = page.locator("#recommendation")
    expect(
        result.get_by_role("heading", name="The AI track: this is an AI engineer")
    ).to_be_visible()
    expect(result).to_contain_text("Building the product on existing models is AI engineering.")
    expect(result).to_contain_text("ML 0 points, AI 12 points")
    expect(result.get_by_role("heading", name="Answer from documents")).to_be_visible()
    expect(result.get_by_role("heading", name="Add numbers")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/role-guide\?.*build_on_models=core"))  # shareable
    shot(page, shots, "40-role-guide-ai")

    # A custom fraud model on the company's transactions: the ML track.
    page.get_by_role("link", name="Clear the answers").click()
    answer(page, FRAUD_MODEL)
    expect(
        result.get_by_role("heading", name="The ML track: this is an ML engineer")
    ).to_be_visible()
    expect(result).to_contain_text("ML 10 points, AI 0 points")
    card = result.locator("article", has_text="Add numbers")
    expect(card).to_contain_text("About 0.1 hours of the candidate's time")
    expect(result.get_by_role("heading", name="Answer from documents")).to_have_count(0)
    shot(page, shots, "41-role-guide-ml")

    # "Use this exercise": the new-position form with the exercise and its track.
    card.get_by_role("link", name="Use this exercise").click()
    expect(page.get_by_label("Exercise")).to_have_value("mini-add")
    expect(page.locator(".notice")).to_contain_text("the ML track, with Add numbers")
    page.get_by_label("Title").fill("Fraud Model Engineer")
    page.get_by_label("Level").fill("Senior")
    shot(page, shots, "42-new-position-from-the-guide")
    page.get_by_role("button", name="Create position").click()
    expect(page.get_by_role("heading", name="Fraud Model Engineer")).to_be_visible()
    context.close()


def test_the_role_guide_works_without_javascript(
    server: Any, browser: Browser, shots: Path, manager: str
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, server, manager)
    page.goto(server.url + "/role-guide")
    # Both jobs at once: their own models, and an assistant on existing ones.
    answer(
        page,
        FRAUD_MODEL
        | {k: SUPPORT_ASSISTANT[k] for k in ("build features on top", "retrieve documents")},
    )
    expect(
        page.get_by_role("heading", name="Both tracks: this posting mixes two jobs")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="ML-track exercises that fit")).to_be_visible()
    expect(page.get_by_role("heading", name="AI-track exercises that fit")).to_be_visible()
    expect(page.get_by_label("Yes, that is the core of the job")).to_be_checked()
    shot(page, shots, "43-role-guide-both-without-javascript")
    context.close()


def test_the_catalogue_and_the_preview_as_a_candidate(
    server: Any, browser: Browser, shots: Path, manager: str
) -> None:
    findings = [
        Finding("reference scores 100", True, "score 100.0", 100.0),
        Finding("starter scores at most 20", True, "graded, score 0.0", 0.0),
        Finding("faulty/no-cli", True, "fails 2 test(s) as declared, score 56.25", 56.25),
        Finding("faulty/off-by-one", True, "fails 1 test(s) as declared, score 40; "
                "knock-out negative_sums (cap 40)", 40.0, ("negative_sums",)),
        Finding("weak/half-done", True, "fails 3 test(s) as declared, score 18.75; "
                "knock-out negative_sums (cap 40)", 18.75, ("negative_sums",)),
    ]  # fmt: skip
    record_validation(
        exercise=load_exercise(MINI_ADD), findings=findings, data_dir=Path(server.data_dir)
    )
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    log_in(page, server, manager)
    page.goto(server.url + "/exercises")
    mini_add = page.locator("article", has_text="Add numbers")
    expect(mini_add.locator(".badge.passed")).to_have_text("validated")
    expect(page.locator("article", has_text="Answer from documents")).to_contain_text(
        "not validated on this installation"
    )
    shot(page, shots, "44-catalogue")

    mini_add.get_by_role("link", name="Scoring, knock-outs and rubric").click()
    expect(page.get_by_role("heading", name="Add numbers · ML track")).to_be_visible()
    expect(page.locator("#knockouts + table")).to_contain_text(
        "adds wrongly when a number is negative"
    )
    expect(page.locator("tr", has_text="faulty/off-by-one")).to_contain_text("40")
    shot(page, shots, "45-exercise")

    page.get_by_role("link", name="Preview as candidate").click()
    expect(
        page.locator(".notice", has_text="Preview: this is what a candidate sees")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Add numbers · your position's title")).to_be_visible()
    for field in page.get_by_label("Your solution (.zip, at most 50 MiB)").all():
        expect(field).to_be_disabled()
    expect(page.get_by_role("button", name="Run public tests")).to_be_disabled()
    expect(page.get_by_role("button", name="Submit final version")).to_be_disabled()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the starter kit").click()
    assert download.value.suggested_filename == "mini-add-starter.zip"
    kit = zipfile.ZipFile(download.value.path())
    assert "mini-add/tests/test_public.py" in kit.namelist()
    assert not any("hidden" in name for name in kit.namelist())
    shot(page, shots, "46-preview-as-candidate")
    context.close()
