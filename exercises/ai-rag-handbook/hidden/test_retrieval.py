"""Retrieval, measured on what reached the model: the chat request bodies in the mock's log."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.category("retrieval")

MIN_RECALL = 0.9


def test_gold_documents_reach_the_model(hb, main_run):
    """Across the 48 hidden fact questions, at least 90 % of the gold handbook pages appear in the
    prompts actually sent to the model, as the mock's request log shows. A failure means retrieval
    misses the pages that hold the answers, so the model cannot answer from them however it is
    prompted.
    """
    main_run.require()
    hits, misses = 0, []
    for q in hb.facts():
        sent = " ".join(json.dumps(r.body) for r in main_run.requests_for(q))
        found = [d for d in q["gold_ids"] if hb.cites(sent, d)]
        hits += len(found)
        if len(found) < len(q["gold_ids"]):
            misses.append(q["id"])
    total = sum(len(q["gold_ids"]) for q in hb.facts())
    recall = hits / total
    assert recall >= MIN_RECALL, (
        f"retrieval recall {recall:.2f} (gold documents in the prompts) is below {MIN_RECALL}; "
        f"missed for {misses[:8]}"
    )
