"""Multi-step plans where each call depends on the previous result."""

import pytest

pytestmark = pytest.mark.category("planning")


def test_list_then_open_the_newest_order(agent):
    """Asked for the most recent order, the agent runs `list_orders` and then `get_order` on the
    newest id (A1003) in three model calls, the last of which carries both tool results. A failure
    means the loop does not feed each result back before the next step, or loses the conversation's
    history between steps.
    """
    chat = agent.chat("latest_order_plan", "What is the status of my most recent order?")
    out = chat.expect_ok()
    names = [c["name"] for c in out["tool_calls"]]
    assert names == ["list_orders", "get_order"], f"tool sequence {names}"
    assert out["tool_calls"][1]["arguments"] == {"order_id": "A1003"}
    assert out["steps"] == 3 and len(chat.ok_requests) == 3
    last = chat.ok_requests[-1].body["messages"]
    assert sum(m.get("role") == "tool" for m in last) == 2, (
        "the last request does not carry both earlier tool results (history lost)"
    )


def test_small_refund_is_issued_from_looked_up_total(agent):
    """For broken goods in order A1003, the model looks the order up and refunds its total, and the
    database then holds exactly one refund, of 24 EUR for A1003. A failure means a plan whose second
    call depends on the first call's result does not complete, or a refund under 100 EUR (which
    needs no policy lookup) is blocked.
    """
    chat = agent.chat("small_refund", "My mugs from order A1003 arrived broken, refund please.")
    chat.expect_ok()
    assert chat.db is not None, "data/shop.json is missing or unreadable after the run"
    refunds = chat.db["refunds"]
    assert [(r["order_id"], r["amount_eur"]) for r in refunds] == [("A1003", 24.0)], (
        f"refunds in the database: {refunds}"
    )
