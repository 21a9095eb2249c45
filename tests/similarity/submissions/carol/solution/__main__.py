"""Entry point: python -m solution {train,predict,evaluate} ...

The commands and their options are the contract (see the brief); what they do
is up to you. Right now each one only says it is not implemented.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split

CATEGORY_COLUMNS = ["region", "plan", "billing_cycle", "payment_method", "acquisition_channel"]
DROP = ["customer_id", "churned", "account_closed_on", "postal_area"]
STATE_FILE = "forest.pkl"


def prepare(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """One-hot categories and fill gaps; align to the training columns when given."""
    data = frame.drop(columns=[c for c in DROP if c in frame.columns])
    for name in CATEGORY_COLUMNS:
        if name not in data.columns:
            data[name] = "unknown"
    data[CATEGORY_COLUMNS] = data[CATEGORY_COLUMNS].fillna("unknown").astype(str)
    encoded = pd.get_dummies(data, columns=CATEGORY_COLUMNS, dtype=float)
    encoded = encoded.apply(pd.to_numeric, errors="coerce").fillna(-1.0)
    if columns is not None:
        encoded = encoded.reindex(columns=columns, fill_value=0.0)
    return encoded


def forest() -> RandomForestClassifier:
    return RandomForestClassifier(
        n_estimators=400, min_samples_leaf=20, class_weight="balanced_subsample",
        n_jobs=1, random_state=11,
    )  # fmt: skip


def best_threshold(truth: np.ndarray, probs: np.ndarray) -> tuple[float, float]:
    """The cut-off on the probability with the highest F1, and that F1."""
    order = np.argsort(-probs)
    sorted_truth = truth[order]
    true_pos = np.cumsum(sorted_truth)
    flagged = np.arange(1, len(truth) + 1)
    precision = true_pos / flagged
    recall = true_pos / max(int(truth.sum()), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)
    best = int(np.argmax(f1))
    return float(probs[order][best]), float(f1[best])


def run_train(data: Path, model_dir: Path) -> int:
    frame = pd.read_csv(data)
    features = prepare(frame)
    model = forest().fit(features, frame["churned"])
    model_dir.mkdir(parents=True, exist_ok=True)
    pd.to_pickle({"model": model, "columns": list(features.columns)}, model_dir / STATE_FILE)
    return 0


def run_predict(model_dir: Path, data: Path, output: Path) -> int:
    state_path = model_dir / STATE_FILE
    if not state_path.exists():
        print(f"error: {model_dir} has no model; train one first", file=sys.stderr)
        return 1
    state = pd.read_pickle(state_path)
    frame = pd.read_csv(data, dtype={"customer_id": str})
    result = pd.DataFrame({"customer_id": frame["customer_id"]})
    if len(frame):
        features = prepare(frame, state["columns"])
        result["churn_probability"] = state["model"].predict_proba(features)[:, 1]
    else:
        result["churn_probability"] = []
    result.to_csv(output, index=False)
    return 0


def run_evaluate(data: Path, report: Path) -> int:
    frame = pd.read_csv(data)
    train_part, test_part = train_test_split(
        frame, test_size=0.2, stratify=frame["churned"], random_state=3
    )
    features = prepare(train_part)
    model = forest().fit(features, train_part["churned"])
    probs = model.predict_proba(prepare(test_part, list(features.columns)))[:, 1]
    truth = test_part["churned"].to_numpy()
    threshold, f1 = best_threshold(truth, probs)
    numbers = {
        "roc_auc": float(roc_auc_score(truth, probs)),
        "pr_auc": float(average_precision_score(truth, probs)),
        "brier": float(brier_score_loss(truth, probs)),
        "threshold": threshold,
        "f1": f1,
        "evaluation": "stratified 80/20 split",
    }
    report.write_text(json.dumps(numbers, indent=2))
    return 0


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
            return run_train(args.data, args.model_dir)
        if args.command == "predict":
            return run_predict(args.model_dir, args.data, args.output)
        return run_evaluate(args.data, args.report)
    except FileNotFoundError as exc:
        print(f"error: {exc.filename} not found", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
