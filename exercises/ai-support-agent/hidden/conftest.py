"""Fixtures of the support-agent suite (trusted side).

Each test scripts the mock model with one scenario from scenarios/, puts the
pristine database back, runs `python -m solution chat` on a one-message
conversation and hands the test a `Chat`: the run, the parsed stdout, the mock's
request log for this run and the database afterwards. Nothing compares the
model's free text: checks read the log, the transcript's structure and the
database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SCENARIOS = Path(__file__).parent / "scenarios"
CONVO = "/work/grading/convo.json"
DB = "data/shop.json"
MAX_STEPS = 8  # stated in brief.md
CHAT_TIMEOUT_S = 45.0


@dataclass
class Chat:
    run: Any
    output: dict[str, Any] | None
    problem: str | None
    requests: list[Any]
    db: dict[str, Any] | None
    ok_requests: list[Any] = field(default_factory=list)

    def expect_ok(self) -> dict[str, Any]:
        assert self.problem is None, self.problem
        assert self.output is not None
        return self.output

    def tool_messages(self, request_index: int) -> list[dict[str, Any]]:
        """The `tool` messages of the n-th successful chat request."""
        body = self.ok_requests[request_index].body
        return [m for m in body["messages"] if m.get("role") == "tool"]

    def response_tool_calls(self, request_index: int) -> list[dict[str, Any]]:
        """The tool calls (with their ids) the model sent in the n-th successful answer."""
        response = self.ok_requests[request_index].response
        if isinstance(response, dict):
            return response["choices"][0]["message"].get("tool_calls") or []
        calls: list[dict[str, Any]] = []  # a stream: ids come in the opening deltas
        for event in response or []:
            data = event.get("data") if isinstance(event, dict) else None
            if isinstance(data, str):
                try:
                    data = json.loads(data)
                except ValueError:
                    continue
            for choice in (data or {}).get("choices", []) if isinstance(data, dict) else []:
                for delta in (choice.get("delta") or {}).get("tool_calls") or []:
                    if delta.get("id"):
                        calls.append({"id": delta["id"], "function": delta.get("function", {})})
        return calls


def _problem(run: Any, output: Any) -> str | None:
    if run.timed_out:
        return f"chat did not finish within {CHAT_TIMEOUT_S:.0f} s"
    if run.exit_code != 0:
        tail = run.text("stderr").strip().splitlines()[-1:] or ["(no stderr)"]
        return f"chat exited with {run.exit_code}: {tail[0][:300]}"
    if not isinstance(output, dict):
        return "stdout is not one JSON object"
    if not isinstance(output.get("final"), str) or not output["final"].strip():
        return "'final' is missing or empty"
    if not isinstance(output.get("tool_calls"), list):
        return "'tool_calls' is missing or not a list"
    if not isinstance(output.get("steps"), int):
        return "'steps' is missing or not an integer"
    return None


class Agent:
    def __init__(self, candidate: Any, mock_llm: Any, pristine: bytes) -> None:
        self.candidate = candidate
        self.mock_llm = mock_llm
        self.pristine = pristine

    def chat(self, scenario: str, text: str, customer_id: str = "C001",
             timeout: float = CHAT_TIMEOUT_S) -> Chat:  # fmt: skip
        self.mock_llm.load_scenario(SCENARIOS / f"{scenario}.toml")
        convo = {"customer_id": customer_id, "messages": [{"role": "user", "content": text}]}
        self.candidate.put_files({DB: self.pristine})
        self.candidate.put_files({"convo.json": json.dumps(convo).encode()}, dest="/work/grading")
        run = self.candidate.run(
            ["python", "-m", "solution", "chat", "--conversation", CONVO], timeout=timeout
        )
        try:
            output = json.loads(run.text("stdout"))
        except ValueError:
            output = None
        try:
            db = json.loads(self.candidate.get_file(DB))
        except (FileNotFoundError, ValueError):
            db = None
        requests = self.mock_llm.requests(endpoint="chat.completions")
        ok = [r for r in requests if r.status == 200]
        return Chat(run, output, _problem(run, output), requests, db, ok)


@pytest.fixture(scope="session")
def agent(candidate: Any, mock_llm: Any, exercise: Any) -> Agent:
    pristine = (Path(exercise.starter_dir) / DB).read_bytes()
    candidate.run(["python", "-c", "import openai, shop"], timeout=60)  # warm the imports
    return Agent(candidate, mock_llm, pristine)
