"""The `chat` command: run the agent on a conversation file, print one JSON object."""

from __future__ import annotations

import argparse
import json
import sys

from solution.agent import run_agent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m solution")
    sub = parser.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help="answer a support conversation")
    chat.add_argument("--conversation", required=True)
    args = parser.parse_args(argv)
    with open(args.conversation, encoding="utf-8") as fh:
        convo = json.load(fh)
    customer_id = convo["customer_id"]
    messages = convo["messages"]
    try:
        out = run_agent(customer_id, messages)
    except Exception as exc:  # the model API failed for good (after the SDK's retries)
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0
