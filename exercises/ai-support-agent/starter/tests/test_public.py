"""Public tests: run your agent against the mock model on one scripted scenario.

The hidden suite works the same way with other scenarios (bad tool calls,
looping models, guardrails); see the brief.
"""

import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.public, pytest.mark.category("tool_use")]

HERE = Path(__file__).resolve().parent
DB = "data/shop.json"


def _chat(candidate, mock_llm, scenario, text, customer_id="C001"):
    mock_llm.load_scenario(HERE / "scenarios" / f"{scenario}.toml")
    candidate.put_files({DB: (HERE.parent / DB).read_bytes()})  # pristine database
    convo = {"customer_id": customer_id, "messages": [{"role": "user", "content": text}]}
    candidate.put_files({"convo.json": json.dumps(convo).encode()}, dest="/work/grading")
    run = candidate.run(
        ["python", "-m", "solution", "chat", "--conversation", "/work/grading/convo.json"],
        timeout=60,
    )
    assert run.exit_code == 0, f"exit {run.exit_code}: {run.text('stderr')[-500:]}"
    return json.loads(run.text("stdout")), mock_llm.requests(endpoint="chat.completions")


def _first_tool_call_id(response):
    """The id of the model's first tool call, from a plain or a streamed response."""
    if isinstance(response, dict):
        return response["choices"][0]["message"]["tool_calls"][0]["id"]
    for event in response:  # streamed: [{"event": ..., "data": ...}, ...]
        data = event.get("data")
        data = json.loads(data) if isinstance(data, str) and data.startswith("{") else data
        for choice in data.get("choices", []) if isinstance(data, dict) else []:
            for delta in (choice.get("delta") or {}).get("tool_calls") or []:
                if delta.get("id"):
                    return delta["id"]
    raise AssertionError("the model's answer has no tool call")


def test_order_status_round_trip(candidate, mock_llm):
    """On the public order-status scenario, `chat` calls `get_order` with the model's arguments,
    answers that tool call by its id and ends, after two model calls, with the tracking number in
    its final answer. A failure means the basic tool-calling loop does not work.
    """
    out, requests = _chat(candidate, mock_llm, "order_status", "Where is my order A1001?")
    assert set(out) >= {"final", "tool_calls", "steps"}
    assert out["steps"] == 2 and len(requests) == 2
    (call,) = out["tool_calls"]
    assert call["name"] == "get_order" and call["arguments"] == {"order_id": "A1001"}
    assert call["result"]["tracking"] == "PG-77812"
    assert "PG-77812" in out["final"]
    # the second request answers the model's tool call by its id
    call_id = _first_tool_call_id(requests[0].response)
    tool_messages = [m for m in requests[1].body["messages"] if m.get("role") == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == [call_id]
