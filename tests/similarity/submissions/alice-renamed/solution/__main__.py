# ruff: noqa
# fmt: off
# A fixture on purpose: alice's solution with other names, layout and comments.
"""Entry point: python -m solution {train,predict,evaluate} ...

The commands and their options are the contract (see the brief); what they do
is up to you. Right now each one only says it is not implemented.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from solution.churn import ChurnFailure, assess, score, fit


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m solution")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="fit a model on labelled data and save it")
    train.add_argument("--data", type=Path, required=True, help="CSV with a 'churned' column")
    train.add_argument("--model-dir", type=Path, required=True, help="where to save the model")

    predict = commands.add_parser("predict", help="score customers with a saved model")
    predict.add_argument("--model-dir", type=Path, required=True)
    predict.add_argument("--data", type=Path, required=True, help="CSV of customers to score")
    predict.add_argument(
        "--output", type=Path, required=True, help="CSV to write: customer_id,churn_probability"
    )

    evaluate = commands.add_parser("evaluate", help="estimate how well the model will do")
    evaluate.add_argument("--data", type=Path, required=True, help="CSV with a 'churned' column")
    evaluate.add_argument("--report", type=Path, required=True, help="JSON file to write")
    return parser


def main(arguments: list[str] | None = None) -> int:
    ns = build_parser().parse_args(arguments)
    try:
        if ns.command == 'train':   fit(ns.data, ns.model_dir)
        elif ns.command == 'predict':
            score(ns.model_dir, ns.data, ns.output)
        else:
            assess(ns.data, ns.report)
    except ChurnFailure as problem:
        print(f'failed: {problem}', file=sys.stderr); return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
