"""The command-line contract on hidden questions."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.category("contract")


def test_batch_answers_every_question(hb, main_run):
    """`batch` over all 58 hidden questions exits 0 and writes one answer line per question, each
    with a string `answer`, a boolean `answerable` and string `citations`. A failure means the batch
    job crashes, skips questions or writes answers a consumer cannot parse.
    """
    main_run.require()
    assert main_run.exit_code == 0, f"batch exited {main_run.exit_code}; stderr: {main_run.stderr}"
    missing = [q["id"] for q in hb.QUESTIONS if q["id"] not in main_run.answers]
    assert not missing, (
        f"{len(missing)} of {len(hb.QUESTIONS)} questions have no answer line: {missing[:8]}"
    )
    bad = [
        qid
        for qid, a in main_run.answers.items()
        if not isinstance(a.get("answer"), str)
        or not isinstance(a.get("answerable"), bool)
        or not all(isinstance(c, str) for c in a.get("citations", []))
    ]
    assert not bad, (
        f"answers without a string answer / bool answerable / string citations: {bad[:8]}"
    )


def test_ask_prints_one_json_answer(hb, candidate, main_run):
    """`ask` with one hidden fact question prints a JSON object with `answer`, `citations` and
    `answerable` as its last line, and the answer holds the gold fact. A failure means the
    single-question command is broken, or answers differently from the batch path.
    """
    question = hb.facts()[-1]
    result = candidate.run(["python", "-m", "solution", "ask", question["question"]], timeout=120)
    assert result.exit_code == 0, (
        f"ask exited {result.exit_code}; stderr: {result.text('stderr')[-800:]}"
    )
    try:
        answer = json.loads(result.text("stdout").strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        pytest.fail(f"ask did not print a JSON answer: {result.text('stdout')[-400:]!r}")
    assert {"answer", "citations", "answerable"} <= set(answer), f"keys: {sorted(answer)}"
    assert question["gold"] in str(answer["answer"]), f"ask answered {answer['answer']!r}"
