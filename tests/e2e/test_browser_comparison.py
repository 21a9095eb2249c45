"""The comparison in Chromium: from a demo position's page to its funnel, dot
strips and table, sorted by a category, and the table downloaded as CSV."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from typing import Any

import pytest
from browsing import log_in, shot
from playwright.sync_api import Browser, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.docker]

FINALS = ("Priya Natarajan", "Tomás Ferreira")  # "— Add numbers"'s two demo finals


def wait_for_gradings(page: Page, *, timeout: float = 240) -> None:
    """The demo's finals are graded in the background: reload until both are."""
    funnel = page.locator("svg.funnel")
    deadline = time.monotonic() + timeout
    while "graded 2" not in (funnel.get_attribute("aria-label") or ""):
        assert time.monotonic() < deadline, funnel.get_attribute("aria-label")
        page.wait_for_timeout(2000)
        page.reload()


def names_in_table(page: Page) -> list[str]:
    return [
        name.strip()
        for name in page.locator("table.compare tbody td:first-child").all_inner_texts()
    ]


def test_a_manager_compares_a_positions_candidates(
    server: Any, browser: Browser, shots: Path
) -> None:
    problems: list[str] = []
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    log_in(page, server, "admin@demo.example")
    page.get_by_role("link", name=re.compile("— Add numbers")).click()
    page.get_by_role("link", name="Compare candidates").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Comparison")
    wait_for_gradings(page)

    funnel = page.locator("svg.funnel")
    expect(funnel).to_have_attribute(
        "aria-label",
        re.compile(r"^Funnel: invited 5, started 4 \(80%\), submitted 2 \(40%\), graded 2"),
    )
    total = page.locator("svg.strip").first
    expect(total).to_have_attribute(
        "aria-label", re.compile(r"^Total score: 2 candidates, median ")
    )
    for name in FINALS:
        expect(total.locator("a.mark title", has_text=name)).to_have_count(1)
    expect(page.locator("svg.strip")).to_have_count(3)  # the total and each category
    rubric = page.locator("section.card", has=page.get_by_role("heading", name="Rubric total"))
    expect(rubric).to_contain_text("Nothing to show yet.")  # no review submitted in the demo
    assert sorted(names_in_table(page)) == sorted(FINALS)
    # The reference scores 100, the faulty solution less: highest first.
    assert names_in_table(page)[0] == "Priya Natarajan"
    shot(page, shots, "25-compare")

    page.get_by_role("link", name="robustness").click()
    expect(page).to_have_url(re.compile(r"\?sort=category\.robustness&order=desc#table$"))
    header = page.locator("th[aria-sort]")
    expect(header).to_have_text(re.compile("^robustness ▼"))
    expect(header).to_have_attribute("aria-sort", "descending")
    column = [h.strip() for h in page.locator("table.compare thead th").all_inner_texts()].index(
        "robustness ▼"
    )
    cells = page.locator(f"table.compare tbody td:nth-child({column + 1})").all_inner_texts()
    scores = [float(c) for c in cells]
    assert scores == sorted(scores, reverse=True)
    shot(page, shots, "26-compare-by-robustness")
    page.get_by_role("link", name="robustness ▼").click()
    expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    ascending = names_in_table(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    assert re.fullmatch(r"ml-engineer-add-numbers-comparison-\d+\.csv",
                        download.value.suggested_filename)  # fmt: skip
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["Candidate", "Total", "correctness", "robustness", "Rubric total",
                       "Reviews", "Decision"]  # fmt: skip
    assert [row[0] for row in rows[1:]] == ascending  # the table's order

    # A dot is a link to the candidate's file.
    page.locator("svg.strip").first.locator("a.mark", has_text="Tomás Ferreira").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tomás Ferreira")
    assert problems == [], problems
    context.close()
