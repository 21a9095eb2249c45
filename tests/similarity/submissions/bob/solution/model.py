"""Gradient boosting on the encoded rows; a hold-out split estimates the report."""

from __future__ import annotations

import json
import pickle
import random
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from solution.features import BadInput, Encoder, read_rows

SAVED = "churn-model.pkl"


def labels_of(rows: list[dict[str, str]]) -> np.ndarray:
    try:
        return np.array([int(row["churned"]) for row in rows])
    except (KeyError, ValueError) as exc:
        raise BadInput("the training data needs a 0/1 churned column") from exc


def fit_model(rows: list[dict[str, str]]) -> tuple[Encoder, HistGradientBoostingClassifier]:
    encoder = Encoder().fit(rows)
    booster = HistGradientBoostingClassifier(
        learning_rate=0.05, max_iter=300, max_leaf_nodes=15, l2_regularization=1.0,
        early_stopping=False, random_state=0,
    )  # fmt: skip
    booster.fit(np.array(encoder.matrix(rows)), labels_of(rows))
    return encoder, booster


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


def train_command(data: Path, model_dir: Path) -> None:
    rows = read_rows(data)
    encoder, booster = fit_model(rows)
    model_dir.mkdir(parents=True, exist_ok=True)
    with (model_dir / SAVED).open("wb") as handle:
        pickle.dump({"encoder": encoder, "booster": booster}, handle)


def predict_command(model_dir: Path, data: Path, output: Path) -> None:
    saved = model_dir / SAVED
    if not saved.exists():
        raise BadInput(f"{model_dir} holds no {SAVED}; run train first")
    with saved.open("rb") as handle:
        bundle = pickle.load(handle)
    rows = read_rows(data)
    lines = ["customer_id,churn_probability"]
    if rows:
        matrix = np.array(bundle["encoder"].matrix(rows))
        probs = bundle["booster"].predict_proba(matrix)[:, 1]
        lines += [f"{row['customer_id']},{p:.6f}" for row, p in zip(rows, probs, strict=True)]
    output.write_text("\n".join(lines) + "\n", encoding="utf-8")


def evaluate_command(data: Path, report: Path) -> None:
    rows = read_rows(data)
    shuffled = rows[:]
    random.Random(42).shuffle(shuffled)
    cut = int(len(shuffled) * 0.75)
    fitted, held = shuffled[:cut], shuffled[cut:]
    encoder, booster = fit_model(fitted)
    truth = labels_of(held)
    probs = booster.predict_proba(np.array(encoder.matrix(held)))[:, 1]
    threshold, f1 = best_threshold(truth, probs)
    summary = {
        "roc_auc": roc_auc_score(truth, probs),
        "pr_auc": average_precision_score(truth, probs),
        "brier": brier_score_loss(truth, probs),
        "threshold": threshold,
        "f1": f1,
        "holdout_rows": len(held),
    }
    report.write_text(json.dumps({k: float(v) for k, v in summary.items()}, indent=2))
