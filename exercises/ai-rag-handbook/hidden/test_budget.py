"""Token and call budgets, read from the mock's usage log of the main run."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.category("budget")

# The first two tests fail a pipeline one token over a budget; the manifest's
# `budget_ignored` knock-out needs to tell that near miss from a pipeline that bounds
# nothing it sends. Twice a budget is past any top-k or page-length misjudgement: only
# an unbounded prompt (the whole handbook, every page sharing a word with the question) or a loop of
# extra calls gets there.
IGNORED_FACTOR = 2


def _ok(records):
    return [r for r in records if r.status == 200 and r.usage is not None]


def test_prompt_tokens_per_call_within_budget(hb, main_run, exercise):
    """No successful chat call of the main run sends more prompt tokens than the manifest's
    `max_prompt_tokens_per_call` (1,500), as the mock counts them. A failure means the pipeline
    pastes too much into the prompt (many pages, or the whole handbook), which costs money and
    latency at scale.
    """
    main_run.require()
    budget = exercise.manifest.budgets["max_prompt_tokens_per_call"]
    records = _ok(main_run.records)
    assert records, "no successful chat requests in the log"
    worst = max(r.usage.prompt_tokens for r in records)
    assert worst <= budget, f"largest prompt {worst} tokens is over the {budget:g}-token budget"


def test_calls_and_tokens_per_question_within_budget(hb, main_run, exercise):
    """Per hidden question, the main run makes on average at most `max_calls_per_question` (2) chat
    calls and spends at most `max_tokens_per_question` (1,200) prompt and completion tokens. A
    failure means extra calls or oversized prompts that multiply the cost of every query.
    """
    main_run.require()
    budgets = exercise.manifest.budgets
    n = len(hb.QUESTIONS)
    calls = len(main_run.records) / n
    tokens = sum(r.usage.total_tokens for r in _ok(main_run.records)) / n
    max_calls, max_tokens = budgets["max_calls_per_question"], budgets["max_tokens_per_question"]
    assert calls <= max_calls, (
        f"{calls:.2f} chat calls per question is over the budget of {max_calls:g}"
    )
    assert tokens <= max_tokens, (
        f"{tokens:.0f} tokens per question is over the budget of {max_tokens:g}"
    )


def test_no_budget_exceeded_twice_over(hb, main_run, exercise):
    """No successful chat call of the main run sends more than twice the per-call prompt budget, and
    per question the run stays within twice the call and token budgets. A failure means nothing
    bounds what the pipeline sends (typically the whole handbook in every prompt): not a budget
    narrowly missed but one ignored, which the `budget_ignored` knock-out caps.
    """
    main_run.require()
    budgets = exercise.manifest.budgets
    records = _ok(main_run.records)  # none: nothing was spent, so no budget was ignored
    n = len(hb.QUESTIONS)
    limits = {
        "largest prompt (tokens)": (
            max((r.usage.prompt_tokens for r in records), default=0),
            budgets["max_prompt_tokens_per_call"],
        ),
        "chat calls per question": (len(main_run.records) / n, budgets["max_calls_per_question"]),
        "tokens per question": (
            sum(r.usage.total_tokens for r in records) / n,
            budgets["max_tokens_per_question"],
        ),
    }
    over = [
        f"{name} {value:.4g} is {value / budget:.1f} times the budget of {budget:g}"
        for name, (value, budget) in limits.items()
        if value > IGNORED_FACTOR * budget
    ]
    assert not over, f"more than {IGNORED_FACTOR} times a budget: " + "; ".join(over)
