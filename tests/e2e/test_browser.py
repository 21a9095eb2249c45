"""The whole journey in a real browser, with real Docker grading.

A hiring manager creates a position and invites a candidate; the candidate
opens the link from the outbox, downloads the kit, uploads the reference
solution, watches it graded live; a reviewer opens the report. Every page is
screenshotted into artifacts/screenshots/.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from browsing import GRADED_WITHIN_MS, log_in, shot, zipped
from playwright.sync_api import Browser, Dialog, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.docker]

REFERENCE = Path(__file__).parents[1] / "graders/exercises/mini-add/reference/solution.py"


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
    expect(cpage.locator("#status .badge").first).to_have_text("graded", timeout=GRADED_WITHIN_MS)
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


HOSTILE_NAME = "notes<img src=x onerror=alert('name')>.txt"


def test_reviewers_read_the_code_the_diffs_and_each_others_notes(
    server: Any, browser: Browser, shots: Path, tmp_path: Path
) -> None:
    """A candidate uploads a broken practice run, then a final with DESIGN.md and
    hostile content; a reviewer reads DESIGN.md, a file, the diff against the
    starter and the practice-to-final diff, and leaves a line note that a
    second reviewer then sees. Nothing from the submission runs: no dialog, no
    console error (a CSP violation would be one)."""
    problems: list[str] = []
    confirming: list[str] = []  # the platform's own confirmation, expected once

    def on_dialog(dialog: Dialog) -> None:
        if dialog.type == "confirm" and confirming and dialog.message == confirming.pop():
            dialog.accept()
            return
        problems.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def watch(page: Page) -> Page:
        page.on("dialog", on_dialog)
        page.on(
            "console",
            lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        return page

    # The admin makes a position and an invitation; the link is shown to them once.
    staff = browser.new_context()
    admin = watch(staff.new_page())
    log_in(admin, server, "admin@demo.example")
    admin.get_by_label("Title").fill("Platform Engineer")
    admin.get_by_label("Level").fill("Senior")
    admin.get_by_label("Exercise").select_option("mini-add")
    admin.get_by_label("Practice runs allowed").fill("2")
    admin.get_by_role("button", name="Create position").click()
    admin.get_by_label("Name").fill("Lin Okafor")
    admin.get_by_label("Email").fill("lin@example.com")
    admin.get_by_role("button", name="Send invitation").click()
    link = admin.locator(".notice code").inner_text()

    # The candidate: a practice run with a bug, then the final.
    candidate = browser.new_context()
    cpage = watch(candidate.new_page())
    cpage.goto(link)
    cpage.get_by_role("button", name="Start the clock").click()
    reference = REFERENCE.read_text()
    broken = reference.replace("a + b", "a - b")
    assert broken != reference
    practice = zipped({"solution.py": broken}, tmp_path / "practice.zip")
    cpage.get_by_label("Your solution (.zip, at most 50 MiB)").first.set_input_files(practice)
    cpage.get_by_role("button", name="Run public tests").click()
    expect(cpage.locator("#status .badge").first).to_have_text("graded", timeout=180_000)
    cpage.goto(server.url + "/c")
    final = zipped(
        {
            "solution.py": reference,
            "DESIGN.md": "# Design\n\nAdding is **one line**.\n\n<script>alert('md')</script>\n",
            HOSTILE_NAME: "<script>alert('content')</script>\n",
        },
        tmp_path / "final.zip",
    )
    cpage.get_by_label("Your solution (.zip, at most 50 MiB)").nth(1).set_input_files(final)
    cpage.get_by_label("This is my final version").check()
    confirming.append(cpage.locator("form[data-confirm]").last.get_attribute("data-confirm") or "")
    cpage.get_by_role("button", name="Submit final version").click()
    expect(cpage.locator("#status .badge").first).to_have_text("graded", timeout=180_000)

    # A reviewer opens the graded final from the candidate's file.
    reviewing = browser.new_context()
    rpage = watch(reviewing.new_page())
    log_in(rpage, server, "reviewer@demo.example")
    rpage.get_by_role("link", name="Platform Engineer").click()
    rpage.get_by_role("link", name="Lin Okafor").click()
    expect(rpage.get_by_text("Final submission")).to_be_visible()
    shot(rpage, shots, "11-candidate-file")
    rpage.get_by_role("link", name="Report").first.click()
    expect(rpage.get_by_text("100.0 / 100")).to_be_visible()
    shot(rpage, shots, "12-report")
    rpage.get_by_role("link", name="Code and DESIGN.md").click()
    expect(rpage.get_by_text("Adding is")).to_be_visible()  # DESIGN.md, rendered
    expect(rpage.locator("section.doc strong", has_text="one line")).to_be_visible()
    expect(rpage.get_by_text(HOSTILE_NAME).first).to_be_visible()  # the name, as text
    shot(rpage, shots, "13-code-tree")
    rpage.get_by_role("link", name="solution.py").first.click()
    expect(rpage.locator("table.code")).to_be_visible()
    shot(rpage, shots, "14-code-file")
    rpage.get_by_label("Line").fill("1")
    rpage.get_by_label("Note").fill("Ask why add() takes no type hints.")
    rpage.get_by_role("button", name="Add note").click()
    expect(
        rpage.locator(".line-notes", has_text="Ask why add() takes no type hints.")
    ).to_be_visible()
    assert rpage.url.endswith("#L1")
    rpage.go_back()
    rpage.go_back()  # the tree
    rpage.get_by_role("link", name=HOSTILE_NAME).first.click()
    expect(rpage.get_by_text("<script>alert('content')</script>")).to_be_visible()
    rpage.go_back()
    rpage.get_by_role("link", name="Changes from the starter kit").first.click()
    expect(rpage.locator(".diff-file").first).to_be_visible()
    shot(rpage, shots, "15-diff-starter")
    rpage.goto(server.url + "/positions")
    rpage.get_by_role("link", name="Platform Engineer").click()
    rpage.get_by_role("link", name="Lin Okafor").click()
    rpage.get_by_role("link", name="Changes from upload 1").click()
    expect(rpage.locator("tr.removed", has_text="a - b")).to_be_visible()
    expect(rpage.locator("tr.added", has_text="a + b")).to_be_visible()
    shot(rpage, shots, "16-diff-practice-final")

    # A second reviewer (the admin) sees the note on the candidate's file and on the line.
    admin.goto(server.url + "/positions")
    admin.get_by_role("link", name="Platform Engineer").click()
    admin.get_by_role("link", name="Lin Okafor").click()
    note = admin.locator(".note", has_text="Ask why add() takes no type hints.")
    expect(note).to_be_visible()
    expect(note.get_by_text("solution.py, line 1")).to_be_visible()
    shot(admin, shots, "17-note-seen")
    note.get_by_role("link", name="solution.py, line 1").click()
    expect(admin.locator("tr:target")).to_be_visible()
    expect(
        admin.locator(".line-notes", has_text="Ask why add() takes no type hints.")
    ).to_be_visible()
    # The debrief guide, printable.
    admin.go_back()
    admin.get_by_role("link", name="Report").first.click()
    admin.get_by_role("link", name="Debrief guide").click()
    expect(admin.get_by_role("heading", name="Debrief guide")).to_be_visible()
    shot(admin, shots, "18-debrief")
    assert problems == [], problems
    for context in (staff, candidate, reviewing):
        context.close()


def test_a_manager_decides_and_tells_the_candidate(
    server: Any, browser: Browser, shots: Path
) -> None:
    """On a demo candidate's file: advance with a reason and an email in the
    standard words; the pipeline and the outbox show it; a reviewer sees the
    decision and has no form to make one."""
    staff = browser.new_context()
    page = staff.new_page()
    log_in(page, server, "admin@demo.example")
    page.get_by_role("link", name=re.compile("— Add numbers")).click()
    page.get_by_role("link", name="Priya Natarajan").click()
    section = page.locator("form", has=page.get_by_role("button", name="Record the decision"))
    expect(page.get_by_text("No decision yet.")).to_be_visible()
    section.get_by_label("advance").check()
    section.get_by_label("Why, for the team").fill("Fixed the practice run's bug; clear DESIGN.md.")
    section.get_by_label("Tell the candidate by email").check()
    section.get_by_text("The email").click()
    expect(section.get_by_text("We would like to go on to the next step")).to_be_visible()
    shot(page, shots, "19-decision-form")
    section.get_by_role("button", name="Record the decision").click()
    card = page.locator(".card.decision")
    expect(card.locator(".badge")).to_have_text("advance")
    expect(card).to_contain_text("the candidate was emailed")
    expect(card).to_contain_text("Fixed the practice run's bug; clear DESIGN.md.")
    expect(page.locator(".timeline")).to_contain_text("Decision: advance")
    shot(page, shots, "20-decision-recorded")
    page.get_by_role("link", name=re.compile("— Add numbers")).click()
    row = page.locator("tr", has_text="Priya Natarajan")
    expect(row.locator(".badge.advance")).to_have_text("advance")
    shot(page, shots, "21-pipeline-decision")
    page.goto(server.url + "/outbox")
    mail = page.locator(".card", has_text="priya.natarajan@demo.example").first
    expect(mail).to_contain_text("We would like to go on to the next step with you")
    expect(mail).not_to_contain_text("Fixed the practice run's bug")  # the reason stays inside

    reviewing = browser.new_context()
    rpage = reviewing.new_page()
    log_in(rpage, server, "reviewer@demo.example")
    rpage.get_by_role("link", name=re.compile("— Add numbers")).click()
    rpage.get_by_role("link", name="Priya Natarajan").click()
    expect(rpage.locator(".card.decision .badge")).to_have_text("advance")
    expect(rpage.get_by_role("button", name="Record the decision")).to_have_count(0)
    for context in (staff, reviewing):
        context.close()


def test_a_blind_position_hides_who_until_revealed(
    server: Any, browser: Browser, shots: Path
) -> None:
    """A blind position: a reviewer sees a pseudonym in the pipeline and on the
    candidate's file; the admin reveals the candidate to themselves only."""
    staff = browser.new_context()
    page = staff.new_page()
    log_in(page, server, "admin@demo.example")
    page.get_by_label("Title").fill("Blind Analyst")
    page.get_by_label("Level").fill("Mid")
    page.get_by_label("Exercise").select_option("mini-add")
    page.get_by_label("Blind review").check()
    page.get_by_role("button", name="Create position").click()
    expect(page.get_by_text("blind review")).to_be_visible()
    page.get_by_label("Name").fill("Zelda Quokka")
    page.get_by_label("Email").fill("zelda@secret.example")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator("#pipeline")).to_contain_text("email hidden")  # the redirect has landed
    page.reload()  # the one-time notice names whom its maker invited; the list does not
    expect(page.locator("#pipeline")).not_to_contain_text("Zelda")
    expect(page.locator("#pipeline")).to_contain_text("email hidden")

    reviewing = browser.new_context()
    rpage = reviewing.new_page()
    log_in(rpage, server, "reviewer@demo.example")
    rpage.get_by_role("link", name="Blind Analyst").click()
    expect(rpage.locator("#pipeline")).not_to_contain_text("Zelda")
    shot(rpage, shots, "22-blind-pipeline")
    rpage.get_by_role("link", name=re.compile("^Candidate ")).click()
    expect(rpage.get_by_role("heading", level=1)).to_contain_text("Candidate ")
    expect(rpage.get_by_role("button", name=re.compile("Reveal"))).to_have_count(0)
    assert "zelda" not in rpage.content().lower()

    page.get_by_role("link", name=re.compile("^Candidate ")).click()
    shot(page, shots, "23-blind-file")
    page.get_by_role("button", name=re.compile("Reveal to me")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Zelda Quokka")
    shot(page, shots, "24-blind-revealed")
    rpage.reload()
    assert "zelda" not in rpage.content().lower()  # revealed to the admin only
    for context in (staff, reviewing):
        context.close()
