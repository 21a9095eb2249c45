"""Unanswerable questions: abstaining is fine, a confident wrong answer is worse."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.category("abstention")

MIN_ABSTENTION = 0.75
# Utility per question: +1 correct answer, 0 abstention, -2 wrong answer (or answered unanswerable).
WRONG_COST = 2.0
MIN_UTILITY = 0.7
# The manifest's `made_up_answers` knock-out. The abstention test above counts any answer
# to an unanswerable question, a refusal wrongly flagged `answerable` included, and
# tolerates a quarter of them; a model that finds a half-matching page can cause those.
# An answer that also cites a page claims the handbook says it, and doing that on half
# or more of the questions the handbook does not answer is a pipeline that does not
# abstain, whatever the model replied.
MAX_CITED_UNANSWERABLE = 0.5


def _unanswerable(hb):
    return [q for q in hb.QUESTIONS if q["kind"] == "unanswerable"]


def test_abstains_on_unanswerable_questions(hb, main_run):
    """On the eight hidden questions the handbook does not answer, the pipeline abstains
    (`answerable` false, no citations) at least 75 % of the time. A failure means it gives confident
    answers the handbook does not support, the costliest mistake for employees who act on them.
    """
    main_run.require()
    qs = _unanswerable(hb)
    leaked = [
        q["id"]
        for q in qs
        if hb.answered(main_run.answer(q)) or main_run.answer(q).get("citations")
    ]
    rate = 1 - len(leaked) / len(qs)
    assert rate >= MIN_ABSTENTION, (
        f"abstained (answerable false, no citations) on {rate:.0%} of unanswerable questions, "
        f"below {MIN_ABSTENTION:.0%}; answered {leaked}"
    )


def test_no_cited_answers_where_the_handbook_is_silent(hb, main_run):
    """On fewer than half of the eight questions the handbook does not answer, the pipeline gives an
    answer flagged `answerable` that cites a handbook page. A failure means it makes up answers and
    attributes them to the handbook (typically by falling back to the top page when the model
    refuses), which the `made_up_answers` knock-out caps.
    """
    main_run.require()
    qs = _unanswerable(hb)
    made_up = [
        q["id"]
        for q in qs
        if hb.answered(main_run.answer(q)) and main_run.answer(q).get("citations")
    ]
    share = len(made_up) / len(qs)
    assert share < MAX_CITED_UNANSWERABLE, (
        f"answered {len(made_up)} of {len(qs)} unanswerable questions with a cited page "
        f"({share:.0%}, below {MAX_CITED_UNANSWERABLE:.0%} needed): {made_up}"
    )


def test_abstention_aware_utility(hb, main_run):
    """Over the fact and unanswerable questions together, the mean utility (+1 for a correct answer,
    0 for an abstention, -2 for a wrong answer or an answered unanswerable question) is at least
    0.7. A failure means the pipeline answers too eagerly, or abstains where the handbook does have
    the answer.
    """
    main_run.require()
    score = 0.0
    qs = [q for q in hb.QUESTIONS if q["kind"] in ("fact", "unanswerable")]
    for q in qs:
        a = main_run.answer(q)
        if not hb.answered(a):
            continue
        score += 1.0 if q["kind"] == "fact" and hb.correct(q, a) else -WRONG_COST
    utility = score / len(qs)
    assert utility >= MIN_UTILITY, (
        f"utility {utility:.2f} (+1 correct, 0 abstain, -{WRONG_COST:g} wrong) "
        f"is below {MIN_UTILITY}"
    )
