"""Citations of answered fact questions against the gold document ids."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.category("citations")

MIN_PRECISION = 0.9
MIN_RECALL = 0.9


def _pairs(hb, run):
    return [(q, run.answer(q)) for q in hb.facts() if hb.answered(run.answer(q))]


def test_citation_precision(hb, main_run):
    """Over the fact questions the pipeline answered, at least 90 % of the cited page ids are gold
    pages for that question. A failure means answers cite pages they did not come from (typically
    every retrieved page), so a citation does not tell the reader where to check.
    """
    main_run.require()
    cited = right = 0
    wrong = []
    for q, a in _pairs(hb, main_run):
        ids = set(a.get("citations") or [])
        cited += len(ids)
        right += len(ids & set(q["gold_ids"]))
        if ids - set(q["gold_ids"]):
            wrong.append(q["id"])
    precision = right / cited if cited else 0.0
    assert precision >= MIN_PRECISION, (
        f"citation precision {precision:.2f} is below {MIN_PRECISION} "
        f"({cited} citations); extra ids for {wrong[:8]}"
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
