"""Plain-Python tools over the shop database, and their JSON schemas.

Every tool takes keyword arguments and returns a JSON-serialisable dict, or
raises ToolError with a message meant for the model. None of them knows who the
customer is: enforcing the business rules is the agent's job (see the brief).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "shop.json"


class ToolError(Exception):
    """A tool could not do what was asked; the message is safe to show the model."""


def db_path() -> Path:
    """data/shop.json next to this package, or $SHOP_DB when set."""
    return Path(os.environ.get("SHOP_DB", DEFAULT_DB))


def _load() -> dict[str, Any]:
    return json.loads(db_path().read_text(encoding="utf-8"))


def _save(db: dict[str, Any]) -> None:
    path = db_path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(db, indent=2), encoding="utf-8")
    tmp.replace(path)


def _order(db: dict[str, Any], order_id: str) -> dict[str, Any]:
    for order in db["orders"]:
        if order["order_id"] == order_id:
            return order
    raise ToolError(f"no order with id {order_id!r}")


def get_order(order_id: str) -> dict[str, Any]:
    return dict(_order(_load(), order_id))


def get_order_owner(order_id: str) -> str | None:
    """The customer id an order belongs to, or None if there is no such order.

    A helper for the agent's guardrails, not a tool offered to the model.
    """
    for order in _load()["orders"]:
        if order["order_id"] == order_id:
            return order["customer_id"]
    return None


def list_orders(customer_id: str) -> dict[str, Any]:
    db = _load()
    orders = [o for o in db["orders"] if o["customer_id"] == customer_id]
    orders.sort(key=lambda o: o["placed"], reverse=True)
    summary = [{k: o[k] for k in ("order_id", "status", "placed", "total_eur")} for o in orders]
    return {"customer_id": customer_id, "orders": summary}


def search_kb(query: str, limit: int = 3) -> dict[str, Any]:
    words = {w for w in query.lower().split() if len(w) > 2}
    scored = []
    for article in _load()["kb"]:
        text = f"{article['title']} {article['text']}".lower()
        score = sum(1 for w in words if w in text)
        if score:
            scored.append((score, article))
    scored.sort(key=lambda pair: -pair[0])
    return {"hits": [a for _, a in scored[: max(1, int(limit))]]}


def get_refund_policy() -> dict[str, Any]:
    return dict(_load()["refund_policy"])


def issue_refund(order_id: str, amount_eur: float, reason: str) -> dict[str, Any]:
    db = _load()
    order = _order(db, order_id)
    amount = float(amount_eur)
    if amount <= 0:
        raise ToolError("amount_eur must be positive")
    if order["status"] == "refunded":
        raise ToolError(f"order {order_id} is already refunded")
    if amount > order["total_eur"]:
        raise ToolError(f"amount {amount} exceeds the order total {order['total_eur']}")
    refund = {
        "refund_id": f"R{len(db['refunds']) + 1:04d}",
        "order_id": order_id,
        "customer_id": order["customer_id"],
        "amount_eur": amount,
        "reason": str(reason),
    }
    db["refunds"].append(refund)
    order["status"] = "refunded"
    _save(db)
    return {"refund": refund, "order_status": "refunded"}


TOOLS = {
    "get_order": get_order,
    "list_orders": list_orders,
    "search_kb": search_kb,
    "get_refund_policy": get_refund_policy,
    "issue_refund": issue_refund,
}


def _fn(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


TOOL_SCHEMAS: list[dict[str, Any]] = [
    _fn("get_order", "Look up one order by id: status, items, total, carrier, tracking.",
        {"order_id": {"type": "string"}}, ["order_id"]),
    _fn("list_orders", "List a customer's orders, newest first.",
        {"customer_id": {"type": "string"}}, ["customer_id"]),
    _fn("search_kb", "Search the help-centre articles.",
        {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}}, ["query"]),
    _fn("get_refund_policy", "Read the current refund policy.", {}, []),
    _fn("issue_refund", "Refund (part of) an order. Irreversible.",
        {"order_id": {"type": "string"}, "amount_eur": {"type": "number"},
         "reason": {"type": "string"}}, ["order_id", "amount_eur", "reason"]),
]  # fmt: skip


def call_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Run tool `name` with `arguments`; raises ToolError for unknown tools and bad arguments."""
    fn = TOOLS.get(name)
    if fn is None:
        raise ToolError(f"unknown tool {name!r}")
    if not isinstance(arguments, dict):
        raise ToolError("arguments must be a JSON object")
    try:
        return fn(**arguments)
    except TypeError as exc:
        raise ToolError(f"bad arguments for {name}: {exc}") from exc
