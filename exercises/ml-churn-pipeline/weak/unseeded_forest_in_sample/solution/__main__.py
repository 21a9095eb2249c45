"""Entry point: python -m solution {train,predict,evaluate} ..."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from solution import churn


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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            churn.train(args.data, args.model_dir)
        elif args.command == "predict":
            churn.predict(args.model_dir, args.data, args.output)
        else:
            churn.evaluate(args.data, args.report)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
