"""Similarity evidence in a real browser, on the demo's own gradings.

The demo's mini-chat position has two finals, its reference solution and its
faulty one: the faulty one is the reference with the citations left out, so
once the embedded worker has graded both (Docker) it flags them. A reviewer
finds the pair on a candidate's file, reads the fragments side by side and
dismisses the flag: refused without a reason, recorded with one.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from browsing import log_in, shot
from playwright.sync_api import Browser, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.docker]

POSITION = re.compile("— Answer from documents")  # the demo's mini-chat position
LATER, EARLIER = "Jonas Lindqvist", "Sofia Marchetti"  # its faulty and its reference final
WAIT_S = 240  # both finals graded by the embedded worker, the first within a minute


def wait_for_pair(page: Page, log: Path) -> None:
    """Reload the candidate's file until the worker has fingerprinted both finals."""
    deadline = time.monotonic() + WAIT_S
    while page.get_by_role("link", name="Read side by side").count() == 0:
        if time.monotonic() > deadline:
            lines = log.read_text(errors="replace").splitlines()
            kept = ("worksample.queue", "worksample.grading", "worksample.similarity")
            tail = "\n".join(line for line in lines if any(k in line for k in kept))
            pytest.fail(f"no similarity pair on the candidate's file after {WAIT_S} s; "
                        f"the server's log:\n{tail[-4000:]}")  # fmt: skip
        time.sleep(2)
        page.reload()


def test_a_reviewer_reads_a_flagged_pair_and_dismisses_it(
    server: Any, browser: Browser, shots: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    # The refusal below is a 400 page, which Chromium logs as a failed load: expected.
    refused = "the server responded with a status of 400"
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and refused not in m.text else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    log_in(page, server, "reviewer@demo.example")
    page.get_by_role("link", name=POSITION).click()
    page.get_by_role("link", name=LATER).click()
    wait_for_pair(page, server.log)
    section = page.locator("table.similarity")
    row = section.locator("tr", has_text=EARLIER)
    expect(row.locator(".badge")).to_have_text("flagged")
    expect(page.get_by_role("heading", name=re.compile("Similar code"))).to_contain_text(
        "1 flagged"
    )
    expect(page.get_by_text("Shared code is evidence to read, not a verdict.")).to_be_visible()
    page.get_by_role("heading", name=re.compile("Similar code")).scroll_into_view_if_needed()
    shot(page, shots, "50-similarity-on-the-file")

    row.get_by_role("link", name="Read side by side").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{LATER} and {EARLIER}")
    expect(page.get_by_role("heading", name="Reading this evidence")).to_be_visible()
    fragment = page.locator("section.fragment").first
    expect(fragment.locator("table.code")).to_have_count(2)  # the two sides
    expect(fragment).to_contain_text("solution.py")
    expect(fragment.locator("span.k", has_text="def").first).to_be_visible()  # highlighted
    # The two sides sit next to each other, not one under the other.
    left, right = (fragment.locator(".code-scroll").nth(i).bounding_box() for i in (0, 1))
    assert left and right and abs(left["y"] - right["y"]) < 2 and right["x"] > left["x"]
    shot(page, shots, "51-similarity-pair")

    form = page.locator("form", has=page.get_by_role("button", name="Dismiss"))
    form.get_by_label("Why this pair is not a concern").fill("   ")
    form.get_by_role("button", name="Dismiss").click()
    expect(page.get_by_role("alert")).to_contain_text("Say why you dismiss this pair")
    shot(page, shots, "52-similarity-dismiss-refused")
    reason = "The faulty solution is the reference minus its citations: the demo's own pair."
    form.get_by_label("Why this pair is not a concern").fill(reason)
    form.get_by_role("button", name="Dismiss").click()
    dismissal = page.locator("#dismissal + .card")
    expect(dismissal.locator(".badge")).to_have_text("dismissed")
    expect(dismissal).to_contain_text("by Rey Reviewer")
    expect(dismissal).to_contain_text(reason)
    expect(page.get_by_role("button", name="Dismiss")).to_have_count(0)
    shot(page, shots, "53-similarity-dismissed")

    page.get_by_role("link", name=LATER).first.click()
    row = page.locator("table.similarity tr", has_text=EARLIER)
    expect(row.locator(".badge")).to_have_text("dismissed")
    expect(page.get_by_role("heading", name=re.compile("Similar code"))).not_to_contain_text(
        "flagged"
    )
    assert problems == [], problems
    context.close()
