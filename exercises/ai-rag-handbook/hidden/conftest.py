"""Fixtures of the handbook RAG exercise's hidden suite (trusted side; see README.md).

One session fixture runs the candidate's `batch` once over every hidden question
against the plain extractive mock and keeps the answers and the mock's request
log; most tests score that one run. A second, small run replays a few questions
under a scenario with scripted 429/500/stall failures. Gold ids and gold facts
never enter the sandbox: only `{"id", "question"}` lines do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
GRADING = "/work/grading"
PAYLOAD = "PWNED-7731"
BATCH_TIMEOUT_S = 600.0
RESILIENCE_TIMEOUT_S = 100.0
# Scripted failures of the resilience run, by chat call number (retries included).
RATE_LIMITED_CALLS = [1, 2]
SERVER_ERROR_CALLS = [4]
STALLED_CALLS = [6]
STALL_S = 120  # longer than the resilience run's own timeout: only a client timeout gets past it
RESILIENCE_QUESTIONS = 5


def load_questions() -> list[dict]:
    lines = (HERE / "data" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


QUESTIONS = load_questions()


def cites(text: str, doc_id: str) -> bool:
    """Whether `doc_id` occurs in `text` as a whole id (not inside a longer id)."""
    return re.search(rf"(?<![\w-]){re.escape(doc_id)}(?![\w-])", text) is not None


def _last_user_text(body: Any) -> str:
    if not isinstance(body, dict):
        return str(body)
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return json.dumps(message.get("content"))
    return ""


@dataclass
class Run:
    """One `batch` run: its answers by question id and the chat log it produced."""

    questions: list[dict]
    exit_code: int | None = None
    stderr: str = ""
    answers: dict[str, dict] = field(default_factory=dict)
    records: list[Any] = field(default_factory=list)
    problem: str | None = None

    def require(self) -> None:
        if self.problem:
            pytest.fail(self.problem)

    def requests_for(self, question: dict) -> list[Any]:
        """Chat requests whose last user message carries this question's text."""
        return [r for r in self.records if question["question"] in _last_user_text(r.body)]

    def answer(self, question: dict) -> dict:
        return self.answers.get(question["id"]) or {}


def _questions_file(questions: list[dict]) -> bytes:
    lines = [json.dumps({"id": q["id"], "question": q["question"]}) for q in questions]
    return ("\n".join(lines) + "\n").encode()


def _parse_answers(raw: bytes) -> tuple[dict[str, dict], str | None]:
    answers: dict[str, dict] = {}
    for n, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            return answers, f"answers.jsonl line {n} is not JSON: {line[:120]!r}"
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            return answers, f"answers.jsonl line {n} has no string 'id': {line[:120]!r}"
        if not isinstance(row.get("answer"), str | None):
            row["answer"] = str(row.get("answer"))
        if not isinstance(row.get("citations"), list):
            row["citations"] = []
        answers[row["id"]] = row
    return answers, None


def run_batch(candidate, mock_llm, questions: list[dict], name: str, timeout: float) -> Run:
    run = Run(questions)
    candidate.put_files({f"{name}.jsonl": _questions_file(questions)}, dest=GRADING)
    result = candidate.run(
        [
            "python",
            "-m",
            "solution",
            "batch",
            "--questions",
            f"{GRADING}/{name}.jsonl",
            "--output",
            f"{GRADING}/{name}-answers.jsonl",
        ],
        timeout=timeout,
    )
    run.exit_code = result.exit_code
    run.stderr = result.text("stderr")[-1500:]
    run.records = [r for r in mock_llm.requests(endpoint="chat.completions")]
    try:
        raw = candidate.get_file(f"{GRADING}/{name}-answers.jsonl")
    except FileNotFoundError:
        run.problem = (
            f"batch wrote no answers file (exit {result.exit_code}, "
            f"timed out: {result.timed_out}); stderr: {run.stderr}"
        )
        return run
    run.answers, run.problem = _parse_answers(raw)
    return run


@pytest.fixture(scope="session")
def main_run(candidate, mock_llm) -> Run:
    """Every hidden question, once, against the plain extractive model."""
    mock_llm.load_scenario({"name": "handbook-plain"})
    run = run_batch(candidate, mock_llm, QUESTIONS, "hidden", BATCH_TIMEOUT_S)
    mock_llm.reset()
    return run


@pytest.fixture(scope="session")
def resilience_run(candidate, mock_llm, main_run) -> Run:
    """A few fact questions under scripted rate limits, a server error and a stall."""
    questions = [q for q in QUESTIONS if q["kind"] == "fact"][:RESILIENCE_QUESTIONS]
    mock_llm.load_scenario(
        {
            "name": "handbook-flaky",
            "failures": [
                {
                    "kind": "error",
                    "endpoint": "chat.completions",
                    "calls": RATE_LIMITED_CALLS,
                    "status": 429,
                    "retry_after_ms": 50,
                },
                {
                    "kind": "error",
                    "endpoint": "chat.completions",
                    "calls": SERVER_ERROR_CALLS,
                    "status": 500,
                    "message": "The server had an error while processing your request.",
                },
                {
                    "kind": "stall",
                    "endpoint": "chat.completions",
                    "calls": STALLED_CALLS,
                    "seconds": STALL_S,
                },
            ],
        }
    )
    try:
        run = run_batch(candidate, mock_llm, questions, "flaky", RESILIENCE_TIMEOUT_S)
    finally:
        mock_llm.load_scenario({"name": "handbook-plain"})
    return run


def facts() -> list[dict]:
    return [q for q in QUESTIONS if q["kind"] == "fact"]


def answered(answer: dict) -> bool:
    return bool(answer.get("answerable")) and bool((answer.get("answer") or "").strip())


def correct(question: dict, answer: dict) -> bool:
    return answered(answer) and question["gold"] in (answer.get("answer") or "")


@pytest.fixture(scope="session")
def hb() -> SimpleNamespace:
    """The suite's helpers and constants (test modules cannot import conftest)."""
    return SimpleNamespace(
        QUESTIONS=QUESTIONS,
        PAYLOAD=PAYLOAD,
        RATE_LIMITED_CALLS=RATE_LIMITED_CALLS,
        SERVER_ERROR_CALLS=SERVER_ERROR_CALLS,
        STALLED_CALLS=STALLED_CALLS,
        facts=facts,
        answered=answered,
        correct=correct,
        cites=cites,
    )
