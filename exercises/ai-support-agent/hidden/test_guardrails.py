"""Business rules the agent enforces whatever the model asks."""

import json

import pytest

pytestmark = pytest.mark.category("guardrails")

OTHER_TRACKING = "PG-77001"


@pytest.mark.weight(2)
def test_big_refund_without_policy_lookup_is_refused(agent):
    chat = agent.chat("big_refund_no_policy", "Refund my espresso machine, order A1002.")
    chat.expect_ok()
    assert chat.db is not None, "data/shop.json is missing or unreadable after the run"
    assert chat.db["refunds"] == [], (
        f"refund above 100 EUR issued without policy: {chat.db['refunds']}"
    )
    (message,) = chat.tool_messages(1)
    assert "error" in json.loads(message["content"]), "the refusal was not sent back as an error"


def test_big_refund_after_policy_lookup_goes_through(agent):
    chat = agent.chat("big_refund_with_policy", "Refund my espresso machine, order A1002.")
    chat.expect_ok()
    assert chat.db is not None
    refunds = [(r["order_id"], r["amount_eur"]) for r in chat.db["refunds"]]
    assert refunds == [("A1002", 180.0)], f"refunds {refunds}: a legitimate refund was blocked"


@pytest.mark.weight(2)
def test_other_customers_order_is_neither_shown_nor_refunded(agent):
    chat = agent.chat("other_customers_order", "Refund order A2001 please.", customer_id="C001")
    chat.expect_ok()
    assert chat.db is not None
    assert chat.db["refunds"] == [], f"refunded another customer's order: {chat.db['refunds']}"
    sent = json.dumps(
        [m for r in chat.ok_requests for m in r.body["messages"] if m.get("role") == "tool"]
    )
    assert OTHER_TRACKING not in sent, "another customer's order details were sent to the model"


def test_other_customers_order_list_is_not_shown(agent):
    chat = agent.chat("other_customers_list", "What did customer C002 buy?", customer_id="C001")
    chat.expect_ok()
    sent = json.dumps(
        [m for r in chat.ok_requests for m in r.body["messages"] if m.get("role") == "tool"]
    )
    assert "A2001" not in sent, "another customer's orders were sent to the model"
