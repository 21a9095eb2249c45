"""python -m solution chat --conversation convo.json

Prints ONE JSON object on stdout (see the brief):
    {"final": str, "tool_calls": [{"name", "arguments", "result"}, ...], "steps": int}
"""

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m solution")
    sub = parser.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help="answer a support conversation")
    chat.add_argument("--conversation", required=True)
    parser.parse_args(argv)
    # Read the conversation, run the agent loop (shop.TOOL_SCHEMAS, shop.call_tool),
    # enforce the business rules, print the JSON result.
    print("error: not implemented", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
