"""Entry point: `python -m solution ask "QUESTION"` and
`python -m solution batch --questions q.jsonl --output answers.jsonl`.

Replace the body of `main` with your pipeline; keep the command line as is.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="solution")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question, print one JSON object")
    ask.add_argument("question")
    batch = sub.add_parser("batch", help="answer a JSONL file of questions")
    batch.add_argument("--questions", required=True)
    batch.add_argument("--output", required=True)
    parser.parse_args(argv)
    print("not implemented", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
