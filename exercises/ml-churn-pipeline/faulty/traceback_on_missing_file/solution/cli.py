"""The command line: train, predict, evaluate.

Exit status: 0 on success, 2 for a problem with the input (missing file, no
trained model, unreadable CSV), reported as one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from solution import data, evaluation, model


def train(args: argparse.Namespace) -> None:
    frame = data.read_customers(args.data, require_target=True)
    fitted = model.fit(frame)
    model.save(fitted, args.model_dir, n_rows=len(frame), churn_rate=float(frame["churned"].mean()))
    print(f"trained on {len(frame)} rows, model saved in {args.model_dir}", file=sys.stderr)


def predict(args: argparse.Namespace) -> None:
    fitted = model.load(args.model_dir)
    frame = data.read_customers(args.data)
    probabilities = model.predict_proba(fitted, frame)
    data.write_predictions(args.output, frame["customer_id"], probabilities)
    print(f"wrote {len(frame)} predictions to {args.output}", file=sys.stderr)


def evaluate(args: argparse.Namespace) -> None:
    frame = data.read_customers(args.data, require_target=True)
    result = evaluation.report(frame)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("roc_auc", "pr_auc", "brier", "threshold", "f1")}))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m solution", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("train", help="fit the model and save it")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--model-dir", type=Path, required=True)
    p.set_defaults(run=train)

    p = commands.add_parser("predict", help="score customers with a saved model")
    p.add_argument("--model-dir", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--output", type=Path, required=True)
    p.set_defaults(run=predict)

    p = commands.add_parser("evaluate", help="cross-validated estimate of the model's quality")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--report", type=Path, required=True)
    p.set_defaults(run=evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except data.InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
