"""A knock-out in Chromium: a candidate's final adds wrongly for negative numbers
(mini-add's `[[critical]]`); the pipeline, the candidate's file and the report
name it and show the cap, and the candidate's own page does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from browsing import GRADED_WITHIN_MS, log_in, shot, zipped
from playwright.sync_api import Browser, expect

OFF_BY_ONE = Path(__file__).parents[1] / "graders/exercises/mini-add/faulty/off-by-one/solution.py"
LABEL = "adds wrongly when a number is negative"


def test_a_knocked_out_final_is_named_where_staff_look(
    server: Any, browser: Browser, shots: Path, tmp_path: Path
) -> None:
    staff = browser.new_context()
    page = staff.new_page()
    log_in(page, server, "admin@demo.example")
    page.get_by_label("Title").fill("Knock-out Analyst")
    page.get_by_label("Level").fill("Junior")
    page.get_by_label("Exercise").select_option("mini-add")
    page.get_by_label("Candidates see their score").check()
    page.get_by_role("button", name="Create position").click()
    page.get_by_label("Name").fill("Kim Negative")
    page.get_by_label("Email").fill("kim@example.com")
    page.get_by_role("button", name="Send invitation").click()
    link = page.locator(".notice code").inner_text()

    candidate = browser.new_context()
    cpage = candidate.new_page()
    cpage.goto(link)
    cpage.get_by_role("button", name="Start the clock").click()
    archive = zipped({"solution.py": OFF_BY_ONE.read_text()}, tmp_path / "solution.zip")
    cpage.get_by_label("Your solution (.zip, at most 50 MiB)").nth(1).set_input_files(archive)
    cpage.get_by_label("This is my final version").check()
    cpage.once("dialog", lambda dialog: dialog.accept())
    cpage.get_by_role("button", name="Submit final version").click()
    expect(cpage.locator("#status .badge").first).to_have_text("graded", timeout=GRADED_WITHIN_MS)
    expect(cpage.get_by_text("40.0 / 100")).to_be_visible()
    expect(cpage.locator("body")).not_to_contain_text(LABEL)  # it speaks of hidden tests

    page.reload()
    row = page.locator("tr", has_text="Kim Negative")
    expect(row).to_contain_text("40.0")
    expect(row).to_contain_text(LABEL)
    shot(page, shots, "35-pipeline-knockout")
    row.get_by_role("link", name="Kim Negative").click()
    expect(page.locator(".knockout-line")).to_contain_text(LABEL)
    page.get_by_role("link", name="why the total is capped").click()
    card = page.locator("#knockouts")
    expect(card).to_contain_text(LABEL)
    expect(card).to_contain_text("capped at 40")
    expect(page.get_by_text("capped from 62.5 by a knock-out")).to_be_visible()
    expect(page.locator("tr.knockout")).to_contain_text("\u221222.5")
    shot(page, shots, "36-report-knockout")
    for context in (staff, candidate):
        context.close()
