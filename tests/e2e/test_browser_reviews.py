"""Rubric reviews in Chromium: two reviewers score one final independently;
neither sees the other's review before submitting their own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from browsing import log_in, shot
from playwright.sync_api import Browser, Page, expect

CANDIDATE = "Tomás Ferreira"  # a demo candidate of "— Add numbers" with a final


def open_review(page: Page) -> None:
    """From the queue: take on the candidate's final, which opens its form."""
    page.get_by_role("link", name="My reviews").click()
    row = page.locator("tr", has_text=CANDIDATE)
    row.get_by_role("button", name="Review it").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Review of {CANDIDATE}")


def score(page: Page, levels: dict[str, tuple[int, str]]) -> None:
    for name, (level, comment) in levels.items():
        criterion = page.locator("fieldset.criterion", has_text=name)
        criterion.locator(f'input[type=radio][value="{level}"]').check()
        criterion.get_by_label("Why this level").fill(comment)


def test_two_reviewers_score_a_final_independently(
    server: Any, browser: Browser, shots: Path
) -> None:
    reviewing = browser.new_context()
    rpage = reviewing.new_page()
    log_in(rpage, server, "reviewer@demo.example")
    open_review(rpage)
    shot(rpage, shots, "30-review-form")
    score(rpage, {"Shared logic": (4, "One add(), parsed in a function of its own.")})
    rpage.get_by_role("button", name="Submit review").click()  # not all of it: refused
    expect(rpage.get_by_role("alert")).to_contain_text("Error handling: choose a level")
    expect(
        rpage.locator("fieldset.criterion", has_text="Shared logic").locator("textarea")
    ).to_have_value("One add(), parsed in a function of its own.")  # what was typed is kept
    shot(rpage, shots, "31-review-refused")
    score(rpage, {"Error handling": (4, "Names the file and the line at fault.")})
    rpage.get_by_role("button", name="Submit review").click()
    expect(rpage.locator(".badge", has_text="submitted")).to_be_visible()
    expect(rpage.get_by_text("100.0 / 100")).to_be_visible()

    staff = browser.new_context()
    page = staff.new_page()
    log_in(page, server, "admin@demo.example")
    open_review(page)
    page.get_by_role("link", name="The candidate's file").click()
    expect(page.get_by_text("Your own review is still open")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Names the file and the line at fault.")
    expect(page.locator("body")).not_to_contain_text("Rey Reviewer")  # who else reviews, too
    shot(page, shots, "32-review-hidden-until-submitted")
    page.get_by_role("link", name="Start your review").click()
    score(
        page,
        {
            "Shared logic": (2, "Parsing and printing are mixed into main()."),
            "Error handling": (3, "Exits 2 with a message, but no line number."),
        },
    )
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved")).to_be_visible()
    page.get_by_role("button", name="Submit review").click()
    expect(page.get_by_text("44.4 / 100")).to_be_visible()  # (2 x 33.3 + 66.7) / 3
    page.get_by_role("link", name="The candidate's file").click()
    spread = page.locator("section.spread")
    expect(spread).to_contain_text("Rey Reviewer")
    expect(spread).to_contain_text("100.0")
    expect(spread).to_contain_text("44.4")
    # Shared logic 4 and 2: two levels apart, flagged; error handling 4 and 3 is not.
    expect(spread.locator("tr.flagged")).to_have_count(1)
    expect(spread.locator("tr.flagged")).to_contain_text("Shared logic")
    shot(page, shots, "33-reviews-both-submitted")
    page.get_by_role("link", name=re.compile("— Add numbers")).first.click()
    page.get_by_role("link", name="Reviewer agreement").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reviewer agreement")
    expect(page.locator("body")).to_contain_text("Krippendorff's alpha")
    flagged = page.locator("tr", has_text=CANDIDATE).filter(has_text="Shared logic")
    expect(flagged).to_have_count(1)
    shot(page, shots, "34-reviewer-agreement")

    rpage.get_by_role("link", name="The candidate's file").click()
    expect(rpage.locator("section.spread")).to_contain_text("Ada Admin")  # submitted: both show
    rpage.get_by_role("link", name=re.compile("— Add numbers")).click()
    row = rpage.locator("tr", has_text=CANDIDATE)
    expect(row).to_contain_text("2 of 2 submitted")
    for context in (staff, reviewing):
        context.close()
