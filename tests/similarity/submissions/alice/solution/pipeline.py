"""Train, predict and evaluate a churn model: one scikit-learn pipeline end to end."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

LABEL = "churned"
ID = "customer_id"
# account_closed_on is filled in after the snapshot for churners only: a leak.
LEAKY = ("account_closed_on",)
NUMERIC = (
    "age",
    "tenure_months",
    "monthly_fee",
    "discount_pct",
    "num_devices",
    "sessions_last_30d",
    "avg_session_minutes",
    "days_since_last_login",
    "support_tickets_90d",
    "failed_payments_12m",
    "satisfaction_score",
)
CATEGORICAL = ("region", "plan", "billing_cycle", "payment_method", "acquisition_channel")
MODEL_FILE = "model.joblib"
SEED = 20240630


class PipelineError(Exception):
    """A problem the user can fix: a missing file, a model folder without a model."""


def read_customers(path: Path, *, labelled: bool) -> pd.DataFrame:
    if not path.is_file():
        raise PipelineError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path, dtype={ID: str})
    except pd.errors.EmptyDataError:
        raise PipelineError(f"{path}: the file is empty") from None
    if ID not in frame.columns:
        raise PipelineError(f"{path}: no {ID} column")
    if labelled and LABEL not in frame.columns:
        raise PipelineError(f"{path}: no {LABEL} column to learn from")
    for column in NUMERIC:
        if column not in frame.columns:
            frame[column] = np.nan
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    for column in CATEGORICAL:
        if column not in frame.columns:
            frame[column] = np.nan
        frame[column] = frame[column].astype("object")
    return frame


def feature_frame(frame: pd.DataFrame) -> pd.DataFrame:
    features = frame[list(NUMERIC) + list(CATEGORICAL)].copy()
    features["fee_per_device"] = features["monthly_fee"] / features["num_devices"].clip(lower=1)
    features["inactive"] = (features["days_since_last_login"] > 30).astype(float)
    features["answered_survey"] = features["satisfaction_score"].notna().astype(float)
    return features


def build_model() -> Pipeline:
    numeric = [*NUMERIC, "fee_per_device", "inactive", "answered_survey"]
    numbers = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categories = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("encode", OneHotEncoder(handle_unknown="ignore", min_frequency=20)),
        ]
    )
    columns = ColumnTransformer(
        [("numbers", numbers, numeric), ("categories", categories, list(CATEGORICAL))]
    )
    classifier = LogisticRegression(max_iter=2000, C=0.5, class_weight="balanced")
    return Pipeline([("columns", columns), ("classifier", classifier)])


def train(data: Path, model_dir: Path) -> None:
    frame = read_customers(data, labelled=True)
    model = build_model()
    model.fit(feature_frame(frame), frame[LABEL].astype(int))
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_dir / MODEL_FILE)


def predict(model_dir: Path, data: Path, output: Path) -> None:
    path = model_dir / MODEL_FILE
    if not path.is_file():
        raise PipelineError(f"{model_dir}: no trained model here (run train first)")
    model = joblib.load(path)
    frame = read_customers(data, labelled=False)
    if frame.empty:
        probabilities = np.array([], dtype=float)
    else:
        probabilities = model.predict_proba(feature_frame(frame))[:, 1]
    result = pd.DataFrame({ID: frame[ID], "churn_probability": probabilities})
    output.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(output, index=False)


def out_of_fold(frame: pd.DataFrame, folds: int = 5) -> np.ndarray:
    """Each customer's probability from a model that never saw them."""
    features = feature_frame(frame)
    labels = frame[LABEL].astype(int).to_numpy()
    scores = np.zeros(len(frame))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for fit_rows, held_rows in splitter.split(features, labels):
        model = build_model()
        model.fit(features.iloc[fit_rows], labels[fit_rows])
        scores[held_rows] = model.predict_proba(features.iloc[held_rows])[:, 1]
    return scores


def pick_threshold(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    candidates = np.unique(np.round(scores, 3))
    best = (0.5, 0.0)
    for candidate in candidates:
        value = f1_score(labels, scores >= candidate, zero_division=0)
        if value > best[1]:
            best = (float(candidate), float(value))
    return best


def evaluate(data: Path, report: Path) -> None:
    frame = read_customers(data, labelled=True)
    labels = frame[LABEL].astype(int).to_numpy()
    scores = out_of_fold(frame)
    threshold, f1 = pick_threshold(labels, scores)
    figures = {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "pr_auc": float(average_precision_score(labels, scores)),
        "brier": float(brier_score_loss(labels, scores)),
        "threshold": threshold,
        "f1": f1,
        "method": "5-fold stratified cross-validation, out-of-fold predictions",
        "rows": len(frame),
        "churn_rate": float(labels.mean()),
    }
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(figures, indent=2) + "\n")
