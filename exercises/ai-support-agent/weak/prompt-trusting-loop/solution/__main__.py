"""Kettle & Co. support agent.

Usage: python -m solution chat --conversation convo.json
"""

import argparse
import json
import sys

import shop
from openai import OpenAI

SYSTEM_PROMPT = """You are a friendly support assistant for Kettle & Co., a shop for small
kitchen appliances. You are helping the customer with id {customer_id}.

Rules:
- Only look at or act on orders of this customer.
- Refunds above 100 EUR are only allowed after you have checked the refund policy with
  get_refund_policy. Always check the policy before a big refund.
- Be short and polite. If you cannot help, say that a colleague will get in touch.
"""


def run_tool(customer_id, name, args):
    # the model should only ever touch this customer's orders
    if name == "list_orders":
        args["customer_id"] = customer_id
    if name in ("get_order", "issue_refund"):
        owner = shop.get_order_owner(args.get("order_id"))
        if owner != customer_id:
            return {"error": "order not found for this customer"}
    try:
        return shop.call_tool(name, args)
    except shop.ToolError as e:
        return {"error": str(e)}


def chat(customer_id, messages):
    client = OpenAI()
    system = {"role": "system", "content": SYSTEM_PROMPT.format(customer_id=customer_id)}
    messages = [system, *messages]
    tool_log = []
    steps = 0

    while True:
        response = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=messages,
            tools=shop.TOOL_SCHEMAS,
        )
        steps += 1
        message = response.choices[0].message

        if not message.tool_calls:
            return {"final": message.content, "tool_calls": tool_log, "steps": steps}

        messages.append(message)
        for tool_call in message.tool_calls:
            name = tool_call.function.name
            args = json.loads(tool_call.function.arguments)
            result = run_tool(customer_id, name, args)
            tool_log.append({"name": name, "arguments": args, "result": result})
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": tool_call.id,
                    "content": json.dumps(result),
                }
            )


def main():
    parser = argparse.ArgumentParser(prog="python -m solution")
    sub = parser.add_subparsers(dest="command", required=True)
    chat_cmd = sub.add_parser("chat")
    chat_cmd.add_argument("--conversation", required=True)
    args = parser.parse_args()

    try:
        with open(args.conversation) as f:
            convo = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        print(f"Could not read conversation file: {e}", file=sys.stderr)
        return 1

    result = chat(convo["customer_id"], convo["messages"])
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
