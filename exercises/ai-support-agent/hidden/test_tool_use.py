"""Tool calls are executed as asked and their results go back by tool_call_id."""

import json

import pytest

pytestmark = pytest.mark.category("tool_use")


def test_parallel_tool_results_go_back_by_id(agent):
    """When the model asks for two tools in one turn, both run and each result goes back as a tool
    message under its own `tool_call_id`, in two model calls. A failure means parallel calls get
    their results mixed up or dropped, so the model answers from the wrong data.
    """
    chat = agent.chat("parallel_calls", "Has my kettle shipped, and how long does delivery take?")
    chat.expect_ok()
    assert len(chat.ok_requests) == 2, f"{len(chat.ok_requests)} model calls, expected 2"
    calls = chat.response_tool_calls(0)
    tool_messages = chat.tool_messages(1)
    by_id = {m.get("tool_call_id"): m for m in tool_messages}
    assert set(by_id) == {c["id"] for c in calls}, "tool results do not answer the calls' ids"
    order = json.loads(by_id[calls[0]["id"]]["content"])
    kb = json.loads(by_id[calls[1]["id"]]["content"])
    assert order.get("order_id") == "A1001", "get_order's result went back under the wrong id"
    assert kb["hits"][0]["id"] == "kb-shipping", "search_kb's result went back under the wrong id"


def test_results_are_json_of_the_tool_return_value(agent):
    """The tool message sent back to the model is the JSON of the tool's return value (the order's
    tracking number), and the transcript's `result` is exactly what was sent. A failure means the
    model sees something other than the tool's real result, or the transcript misreports it.
    """
    chat = agent.chat("order_status", "Where is my order A1001?")
    out = chat.expect_ok()
    (message,) = chat.tool_messages(1)
    content = json.loads(message["content"])
    assert content.get("tracking") == "PG-77812", "the tool message is not the tool's result"
    assert out["tool_calls"][0]["result"] == content, "transcript result differs from what was sent"
