"""Citations of answered fact questions against the gold document ids."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.category("citations")

MIN_PRECISION = 0.9
MIN_RECALL = 0.9
# The manifest's `citations_misleading` knock-out: below this precision most cited pages
# are not where the answer came from, so a reader who follows a citation is more likely
# sent to a page that does not hold the answer than to the one that does. An extra page
# now and then stays above it; citing every retrieved page does not.
MIN_SOURCE_PRECISION = 0.5


def _pairs(hb, run):
    return [(q, run.answer(q)) for q in hb.facts() if hb.answered(run.answer(q))]


def _precision(hb, run) -> tuple[float, int, list[str]]:
    """Cited ids that are gold over all cited ids; the count of citations; the questions
    citing a page that is not gold."""
    cited = right = 0
    wrong = []
    for q, a in _pairs(hb, run):
        ids = set(a.get("citations") or [])
        cited += len(ids)
        right += len(ids & set(q["gold_ids"]))
        if ids - set(q["gold_ids"]):
            wrong.append(q["id"])
    return (right / cited if cited else 0.0), cited, wrong


def test_citation_precision(hb, main_run):
    """Over the fact questions the pipeline answered, at least 90 % of the cited page ids are gold
    pages for that question. A failure means answers cite pages they did not come from (typically
    every retrieved page), so a citation does not tell the reader where to check.
    """
    main_run.require()
    precision, cited, wrong = _precision(hb, main_run)
    assert precision >= MIN_PRECISION, (
        f"citation precision {precision:.2f} is below {MIN_PRECISION} "
        f"({cited} citations); extra ids for {wrong[:8]}"
    )


def test_citations_mostly_name_the_source(hb, main_run):
    """Over the fact questions the pipeline answered, at least half of the cited page ids are the
    page the answer comes from. A failure means most citations point to pages the answer does not
    come from (or answers cite nothing), so the citations do not say where an answer came from,
    which the `citations_misleading` knock-out caps.
    """
    main_run.require()
    precision, cited, wrong = _precision(hb, main_run)
    assert precision >= MIN_SOURCE_PRECISION, (
        f"only {precision:.0%} of {cited} citations name the page the answer comes from "
        f"(at least {MIN_SOURCE_PRECISION:.0%} needed); extra ids for {wrong[:8]}"
    )


def test_citation_recall(hb, main_run):
    """Over the fact questions the pipeline answered, at least 90 % of the gold pages are among the
    cited ids. A failure means answers leave out the pages they rely on, so a reader cannot verify
    them.
    """
    main_run.require()
    pairs = _pairs(hb, main_run)
    gold = sum(len(q["gold_ids"]) for q, _ in pairs)
    found = sum(len(set(a.get("citations") or []) & set(q["gold_ids"])) for q, a in pairs)
    recall = found / gold if gold else 0.0
    assert recall >= MIN_RECALL, (
        f"citation recall {recall:.2f} is below {MIN_RECALL} over {len(pairs)} answers"
    )
