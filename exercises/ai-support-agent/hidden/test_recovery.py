"""Bad tool calls, tool errors, a looping model and a flaky API: recover, never crash."""

import json

import pytest

MAX_STEPS = 8  # stated in brief.md

pytestmark = pytest.mark.category("recovery")


def _error_for(chat, request_index, call_index=0):
    call_id = chat.response_tool_calls(request_index - 1)[call_index]["id"]
    for message in chat.tool_messages(request_index):
        if message.get("tool_call_id") == call_id:
            try:
                content = json.loads(message["content"])
            except (TypeError, ValueError):
                return None
            return content.get("error") if isinstance(content, dict) else None
    raise AssertionError(f"no tool message answers call {call_id}")


def test_malformed_arguments_get_an_error_result(agent):
    """When the model sends a tool call whose arguments are not valid JSON, the agent answers that
    call with an error result and the model's corrected retry runs, three model calls in all. A
    failure means one malformed call crashes the agent or derails the conversation instead of
    letting the model fix it.
    """
    chat = agent.chat("malformed_arguments", "Where is my order A1001?")
    out = chat.expect_ok()
    assert len(chat.ok_requests) == 3, f"{len(chat.ok_requests)} model calls, expected 3"
    assert _error_for(chat, 1), "malformed arguments were not answered with {'error': ...}"
    assert out["tool_calls"][-1]["result"].get("order_id") == "A1001", "the retry did not run"


def test_unknown_tool_gets_an_error_result(agent):
    """When the model calls a tool that does not exist (`delete_all_orders`), the agent answers with
    an error result and the orders in the database are untouched. A failure means the agent crashes
    on names it does not know, or tries to dispatch them.
    """
    chat = agent.chat("unknown_tool", "Please clean up my account.")
    chat.expect_ok()
    assert _error_for(chat, 1), "the unknown tool was not answered with {'error': ...}"
    assert chat.db is not None and len(chat.db["orders"]) == 4, "orders changed"


def test_tool_error_goes_back_to_the_model(agent):
    """When a tool fails (`get_order` for an order that does not exist), the tool's error goes back
    to the model as an error result. A failure means a routine tool failure crashes the agent or is
    hidden from the model, which then cannot tell the customer what went wrong.
    """
    chat = agent.chat("tool_error", "Where is my order A9999?")
    chat.expect_ok()
    assert _error_for(chat, 1), "the tool's error was not sent back as {'error': ...}"


@pytest.mark.weight(2)
def test_looping_model_is_stopped_at_the_step_limit(agent):
    """Against a model that asks for tools forever, the agent makes at most 8 model calls, reports
    at most 8 steps and still exits 0 with a final answer. A failure means the loop is unbounded:
    one misbehaving model can burn time and money without end.
    """
    chat = agent.chat("loop_forever", "How do I descale my kettle?", timeout=40)
    out = chat.expect_ok()
    assert len(chat.requests) <= MAX_STEPS, (
        f"{len(chat.requests)} model calls; the limit is {MAX_STEPS}"
    )
    assert out["steps"] <= MAX_STEPS, f"steps {out['steps']} over the limit {MAX_STEPS}"


def test_rate_limits_and_server_errors_are_retried(agent):
    """Behind two 429 responses and one 500, the order-status conversation still completes with the
    right order's result, and the log shows the failed requests were retried. A failure means
    transient API errors, routine in production, end the conversation.
    """
    chat = agent.chat("order_status_retry", "Where is my order A1002?")
    out = chat.expect_ok()
    statuses = [r.status for r in chat.requests]
    assert statuses.count(429) == 2 and statuses.count(500) == 1, f"statuses {statuses}"
    assert out["tool_calls"][0]["result"].get("order_id") == "A1002"
