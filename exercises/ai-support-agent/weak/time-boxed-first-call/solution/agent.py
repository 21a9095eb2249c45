"""SupportAgent: the tool-calling loop with the shop's business rules."""

import json
import time

import openai
import shop

MODEL = "gpt-4o-mini"
TIME_BUDGET_S = 30  # the brief gives us 45 s per conversation; keep a margin
RATE_LIMIT_RETRIES = 3
POLICY_LIMIT_EUR = 100

SYSTEM = (
    "You are the customer support assistant of Kettle & Co. "
    "Answer the customer's question using the tools. Be concise."
)
FALLBACK = "Sorry, this is taking longer than expected. A member of our team will contact you."


class RuleViolation(Exception):
    pass


class SupportAgent:
    def __init__(self, customer_id):
        self.customer_id = customer_id
        self.client = openai.OpenAI(max_retries=0)  # we handle retries ourselves
        self.policy_checked = False
        self.tool_calls = []

    # --- model ---------------------------------------------------------

    def ask_model(self, messages):
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                return self.client.chat.completions.create(
                    model=MODEL, messages=messages, tools=shop.TOOL_SCHEMAS
                )
            except openai.RateLimitError:
                if attempt == RATE_LIMIT_RETRIES:
                    raise
                time.sleep(2**attempt)

    # --- rules ---------------------------------------------------------

    def check_rules(self, name, args):
        if name == "list_orders" and args.get("customer_id") != self.customer_id:
            raise RuleViolation("You can only list the orders of the current customer.")
        if name in ("get_order", "issue_refund"):
            owner = shop.get_order_owner(args.get("order_id", ""))
            if owner is not None and owner != self.customer_id:
                raise RuleViolation("This order belongs to another customer.")
        if (
            name == "issue_refund"
            and float(args.get("amount_eur", 0)) > POLICY_LIMIT_EUR
            and not self.policy_checked
        ):
            raise RuleViolation(
                "Refunds above 100 EUR need the refund policy: call get_refund_policy first."
            )

    # --- tools ---------------------------------------------------------

    def run_tool(self, name, raw_arguments):
        try:
            args = json.loads(raw_arguments or "{}")
        except json.JSONDecodeError:
            return raw_arguments, {"error": "Invalid JSON in the tool arguments."}
        try:
            self.check_rules(name, args)
            result = shop.call_tool(name, args)
        except (RuleViolation, shop.ToolError) as e:
            return args, {"error": str(e)}
        if name == "get_refund_policy":
            self.policy_checked = True
        return args, result

    # --- loop ----------------------------------------------------------

    def answer(self, messages):
        messages = [{"role": "system", "content": SYSTEM}, *messages]
        steps = 0
        started = time.monotonic()
        while time.monotonic() - started < TIME_BUDGET_S:
            response = self.ask_model(messages)
            steps += 1
            message = response.choices[0].message
            if not message.tool_calls:
                return {"final": message.content, "tool_calls": self.tool_calls, "steps": steps}

            messages.append(message.model_dump(exclude_none=True))
            call = message.tool_calls[0]
            args, result = self.run_tool(call.function.name, call.function.arguments)
            self.tool_calls.append(
                {"name": call.function.name, "arguments": args, "result": result}
            )
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)}
            )
        return {"final": FALLBACK, "tool_calls": self.tool_calls, "steps": steps}
