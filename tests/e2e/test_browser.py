"""The whole journey in a real browser, with real Docker grading.

A hiring manager creates a position and invites a candidate; the candidate
opens the link from the outbox, downloads the kit, uploads the reference
solution, watches it graded live; a reviewer opens the report. Every page is
screenshotted into artifacts/screenshots/.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.docker]

REFERENCE = Path(__file__).parents[1] / "graders/exercises/mini-add/reference/solution.py"


def shot(page: Page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def log_in(page: Page, server: Any, email: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Positions")).to_be_visible()


def test_hiring_candidate_reviewer_journey(
    server: Any, browser: Browser, shots: Path, tmp_path: Path
) -> None:
    staff = browser.new_context()
    page = staff.new_page()
    page.goto(server.url + "/login")
    shot(page, shots, "01-login")
    log_in(page, server, "admin@demo.example")

    # The hiring manager creates a position and invites a candidate.
    page.get_by_label("Title").fill("Data Scientist")
    page.get_by_label("Level").fill("Mid")
    page.get_by_label("Exercise").select_option("mini-add")
    page.get_by_label("Practice runs allowed").fill("2")
    page.get_by_label("Candidates see their score").check()
    shot(page, shots, "02-positions")
    page.get_by_role("button", name="Create position").click()
    expect(page.get_by_role("heading", name="Data Scientist")).to_be_visible()
    page.get_by_label("Name").fill("Grace Candidate")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("grace@example.com")).to_be_visible()
    # No mail server: the link is shown to its maker, once.
    notice = page.locator(".notice", has_text="The personal link of Grace Candidate")
    expect(notice).to_be_visible()
    shown_link = notice.locator("code").inner_text()
    shot(page, shots, "03-pipeline")
    page.reload()
    expect(page.locator(".notice")).to_have_count(0)
    page.goto(server.url + "/outbox")
    expect(page.get_by_text("grace@example.com").first).to_be_visible()
    shot(page, shots, "04-outbox")
    card = page.locator(".card", has_text="grace@example.com").first
    link = card.locator("pre").inner_text()
    link = next(word for word in link.split() if "/i/" in word)
    assert link == shown_link

    # The admin's own browser follows the link: asked first, and stays signed in.
    page.goto(link)
    expect(page.get_by_role("heading", name="Open this invitation?")).to_be_visible()
    shot(page, shots, "04b-link-while-signed-in")
    page.get_by_role("link", name="Stay signed in").click()
    expect(page.get_by_role("heading", name="Positions")).to_be_visible()

    # The candidate opens the link in a browser of their own.
    candidate = browser.new_context(accept_downloads=True)
    cpage = candidate.new_page()
    cpage.goto(link)
    assert cpage.url == server.url + "/c", "the token must not stay in the URL"
    expect(cpage.get_by_role("heading", name="Add numbers · Data Scientist")).to_be_visible()
    shot(cpage, shots, "05-candidate-brief")
    cpage.get_by_role("button", name="Start the clock").click()
    with cpage.expect_download() as download:
        cpage.get_by_role("link", name="Download the starter kit").click()
    kit = zipfile.ZipFile(download.value.path())
    assert "mini-add/tests/test_public.py" in kit.namelist()
    assert not any("hidden" in name for name in kit.namelist())

    # The candidate uploads the reference solution as the final version.
    archive = tmp_path / "solution.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("solution.py", REFERENCE.read_text())
    archive.write_bytes(buf.getvalue())
    shot(cpage, shots, "06-candidate-upload")
    cpage.get_by_label("Your solution (.zip, at most 50 MiB)").nth(1).set_input_files(archive)
    cpage.get_by_label("This is my final version").check()
    cpage.once("dialog", lambda dialog: dialog.accept())
    cpage.get_by_role("button", name="Submit final version").click()
    expect(cpage.get_by_role("heading", name="Your final upload")).to_be_visible()
    shot(cpage, shots, "07-candidate-status-live")
    # htmx polls the status partial until the grading is done.
    expect(cpage.locator("#status .badge").first).to_have_text("graded", timeout=90_000)
    expect(cpage.get_by_text("100.0 / 100")).to_be_visible()
    expect(cpage.get_by_text("test_add_negative")).to_have_count(0)  # hidden stays hidden
    shot(cpage, shots, "08-candidate-graded")

    # A reviewer opens the report.
    reviewer = browser.new_context()
    rpage = reviewer.new_page()
    log_in(rpage, server, "reviewer@demo.example")
    rpage.get_by_role("link", name="Data Scientist").click()
    rpage.get_by_role("link", name="Submissions").first.click()
    shot(rpage, shots, "09-reviewer-submissions")
    rpage.get_by_role("link", name="Report").click()
    expect(rpage.get_by_text("100.0 / 100")).to_be_visible()
    expect(rpage.get_by_text("test_add_negative")).to_be_visible()
    expect(rpage.get_by_role("button", name="Create position")).to_have_count(0)
    shot(rpage, shots, "10-reviewer-report")
    for context in (staff, candidate, reviewer):
        context.close()
