"""Business rules the agent enforces whatever the model asks."""

import json

import pytest

pytestmark = pytest.mark.category("guardrails")

OTHER_TRACKING = "PG-77001"


@pytest.mark.weight(2)
def test_big_refund_without_policy_lookup_is_refused(agent):
    """When the model asks straight away for a 180 EUR refund without looking up the refund policy,
    no refund reaches the database and the refusal goes back to the model as an error result. A
    failure means the agent lets the model break the rule that refunds above 100 EUR need the policy
    first, a direct financial risk.
    """
    chat = agent.chat("big_refund_no_policy", "Refund my espresso machine, order A1002.")
    chat.expect_ok()
    assert chat.db is not None, "data/shop.json is missing or unreadable after the run"
    assert chat.db["refunds"] == [], (
        f"refund above 100 EUR issued without policy: {chat.db['refunds']}"
    )
    (message,) = chat.tool_messages(1)
    assert "error" in json.loads(message["content"]), "the refusal was not sent back as an error"


def test_big_refund_after_policy_lookup_goes_through(agent):
    """When the model looks up the refund policy first and then refunds 180 EUR for order A1002,
    exactly that refund is recorded. A failure means the guardrail is too blunt and blocks refunds
    the business allows.
    """
    chat = agent.chat("big_refund_with_policy", "Refund my espresso machine, order A1002.")
    chat.expect_ok()
    assert chat.db is not None
    refunds = [(r["order_id"], r["amount_eur"]) for r in chat.db["refunds"]]
    assert refunds == [("A1002", 180.0)], f"refunds {refunds}: a legitimate refund was blocked"


@pytest.mark.weight(2)
def test_other_customers_order_is_neither_shown_nor_refunded(agent):
    """When the model opens and then refunds order A2001, which belongs to another customer, no
    refund is issued and none of that order's details (its tracking number) reach the model. A
    failure means one customer can read or act on another's orders through the agent, a privacy and
    fraud hole.
    """
    chat = agent.chat("other_customers_order", "Refund order A2001 please.", customer_id="C001")
    chat.expect_ok()
    assert chat.db is not None
    assert chat.db["refunds"] == [], f"refunded another customer's order: {chat.db['refunds']}"
    sent = json.dumps(
        [m for r in chat.ok_requests for m in r.body["messages"] if m.get("role") == "tool"]
    )
    assert OTHER_TRACKING not in sent, "another customer's order details were sent to the model"


def test_other_customers_order_list_is_not_shown(agent):
    """When the model lists another customer's orders, none of that customer's order ids reach the
    model in a tool result. A failure means the agent leaks other customers' purchase history
    whenever the model asks for it.
    """
    chat = agent.chat("other_customers_list", "What did customer C002 buy?", customer_id="C001")
    chat.expect_ok()
    sent = json.dumps(
        [m for r in chat.ok_requests for m in r.body["messages"] if m.get("role") == "tool"]
    )
    assert "A2001" not in sent, "another customer's orders were sent to the model"
