"""The command's output contract and what the model is offered."""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.category("contract")

SHOP = Path(__file__).resolve().parent.parent / "starter" / "shop"


def test_output_is_one_json_object_with_the_transcript(agent):
    """For a one-tool order-status conversation, `chat` prints one JSON object with `steps` 2 and a
    transcript holding the `get_order` call with its parsed arguments and the tool's actual result.
    A failure means the caller cannot consume the output, or the transcript does not show what
    really happened.
    """
    chat = agent.chat("order_status", "Where is my order A1003?")
    out = chat.expect_ok()
    assert out["steps"] == 2, f"steps is {out['steps']}, the model was called 2 times"
    assert len(out["tool_calls"]) == 1, f"{len(out['tool_calls'])} tool calls in the transcript"
    entry = out["tool_calls"][0]
    assert set(entry) >= {"name", "arguments", "result"}, f"transcript entry keys {sorted(entry)}"
    assert entry["name"] == "get_order"
    assert entry["arguments"] == {"order_id": "A1003"}, f"arguments {entry['arguments']!r}"
    assert isinstance(entry["result"], dict) and entry["result"].get("order_id") == "A1003", (
        f"result is not the tool's return value: {str(entry['result'])[:200]}"
    )


def test_every_request_offers_the_shop_tools(agent):
    """Every successful request to the model offers the five shop tools, with `issue_refund`
    requiring the shop's own `order_id`, `amount_eur` and `reason`. A failure means the model gets
    no tools, only some, or a hand-edited schema, so it cannot act for the customer or is told the
    wrong way to.
    """
    chat = agent.chat("parallel_calls", "Has my kettle shipped, and how long does delivery take?")
    chat.expect_ok()
    expected = {"get_order", "list_orders", "search_kb", "get_refund_policy", "issue_refund"}
    for i, request in enumerate(chat.ok_requests):
        tools = request.body.get("tools") or []
        names = {t.get("function", {}).get("name") for t in tools}
        assert names >= expected, f"request {i + 1} offers {sorted(n for n in names if n)}"
        for tool in tools:
            params = tool["function"].get("parameters", {})
            if tool["function"]["name"] == "issue_refund":
                assert set(params.get("required", [])) == {"order_id", "amount_eur", "reason"}, (
                    "issue_refund's schema is not the shop's"
                )


def test_unreadable_conversation_fails_cleanly(candidate):
    """A conversation file that does not exist ends in a non-zero exit, no traceback on stderr and
    no JSON result on stdout. A failure means bad input crashes with a stack trace, or yields a
    result a caller could mistake for an answer.
    """
    run = candidate.run(
        ["python", "-m", "solution", "chat", "--conversation", "/work/grading/missing.json"],
        timeout=60,
    )
    assert run.exit_code not in (0, None), f"exit code {run.exit_code} for a missing file"
    assert "Traceback" not in run.text("stderr"), "a traceback instead of an error message"
    try:
        json.loads(run.text("stdout"))
    except ValueError:
        return
    pytest.fail("printed a JSON result for a conversation it could not read")
