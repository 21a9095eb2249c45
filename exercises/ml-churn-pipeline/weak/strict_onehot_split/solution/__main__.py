"""Entry point: python -m solution {train,predict,evaluate} ..."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from solution.pipeline import evaluate, predict, train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m solution")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("train", help="fit a model on labelled data and save it")
    p.add_argument("--data", type=Path, required=True, help="CSV with a 'churned' column")
    p.add_argument("--model-dir", type=Path, required=True, help="where to save the model")

    p = commands.add_parser("predict", help="score customers with a saved model")
    p.add_argument("--model-dir", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True, help="CSV of customers to score")
    p.add_argument(
        "--output", type=Path, required=True, help="CSV to write: customer_id,churn_probability"
    )

    p = commands.add_parser("evaluate", help="estimate how well the model will do")
    p.add_argument("--data", type=Path, required=True, help="CSV with a 'churned' column")
    p.add_argument("--report", type=Path, required=True, help="JSON file to write")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for path in (getattr(args, "data", None),):
        if path is not None and not path.exists():
            print(f"error: file not found: {path}", file=sys.stderr)
            return 1
    if args.command == "train":
        train(args.data, args.model_dir)
    elif args.command == "predict":
        if not (args.model_dir / "model.pkl").exists():
            print(f"error: no model in {args.model_dir}; run train first", file=sys.stderr)
            return 1
        predict(args.model_dir, args.data, args.output)
    else:
        evaluate(args.data, args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
