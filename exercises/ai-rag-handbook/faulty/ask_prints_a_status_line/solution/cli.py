"""`python -m solution ask "QUESTION"` and `python -m solution batch --questions Q --output A`."""

from __future__ import annotations

import argparse
import json
import sys
import time

from solution.answer import Answerer
from solution.retrieval import Index, load_corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="solution")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask")
    ask.add_argument("question")
    batch = sub.add_parser("batch")
    batch.add_argument("--questions", required=True)
    batch.add_argument("--output", required=True)
    args = parser.parse_args(argv)

    started = time.monotonic()
    answerer = Answerer(Index(load_corpus()))
    if args.command == "ask":
        print(json.dumps(answerer.ask(args.question)))
        print(f"answered in {time.monotonic() - started:.2f}s")
        return 0
    with open(args.questions, encoding="utf-8") as handle:
        questions = [json.loads(line) for line in handle if line.strip()]
    failed = 0
    with open(args.output, "w", encoding="utf-8") as out:
        for q in questions:
            try:
                result = answerer.ask(q["question"])
            except Exception as exc:  # one bad call must not lose the whole batch
                print(f"{q.get('id')}: {type(exc).__name__}: {exc}", file=sys.stderr)
                failed += 1
                result = {"answer": "", "citations": [], "answerable": False}
            out.write(json.dumps({"id": q.get("id"), **result}) + "\n")
            out.flush()
    return 1 if failed else 0
