import argparse
import json
import sys

import openai

from solution.agent import SupportAgent


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m solution")
    commands = parser.add_subparsers(dest="command", required=True)
    chat = commands.add_parser("chat", help="answer a support conversation")
    chat.add_argument("--conversation", required=True, help="path to convo.json")
    args = parser.parse_args(argv)

    try:
        with open(args.conversation, encoding="utf-8") as f:
            conversation = json.load(f)
    except (OSError, ValueError) as e:
        print(f"error: could not read {args.conversation}: {e}", file=sys.stderr)
        return 2

    agent = SupportAgent(conversation["customer_id"])
    try:
        output = agent.answer(conversation["messages"])
    except openai.OpenAIError as e:
        print(f"error: the model API failed: {e}", file=sys.stderr)
        return 1

    print(json.dumps(output))
    return 0
