"""Churn model: a random forest on the customer export.

Steps: load the csv, encode the text columns as numbers, fill the gaps, fit a
random forest. The same `prepare` function is used for training and scoring.
"""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    roc_auc_score,
)

TARGET = "churned"
# customer_id is just an id; account_closed_on is empty for most customers
NOT_FEATURES = ["customer_id", "churned", "account_closed_on"]
TEXT_COLUMNS = ["region", "postal_area", "plan", "billing_cycle", "payment_method",
                "acquisition_channel"]
THRESHOLD = 0.5


def load(path):
    if not Path(path).exists():
        raise FileNotFoundError(f"no such file: {path}")
    return pd.read_csv(path)


def prepare(df, info=None):
    """Turn the raw table into numbers. `info` holds what was learned in training
    (the columns and the levels of every text column); None means learn it now."""
    if info is None:
        columns = [c for c in df.columns if c not in NOT_FEATURES]
        levels = {c: sorted(df[c].dropna().unique().tolist()) for c in TEXT_COLUMNS}
        info = {"columns": columns, "levels": levels}
    X = pd.DataFrame(index=df.index)
    for col in info["columns"]:
        values = df[col] if col in df.columns else pd.Series(index=df.index, dtype=float)
        if col in TEXT_COLUMNS:
            # levels not seen in training (and blanks) become -1
            X[col] = pd.Categorical(values, categories=info["levels"][col]).codes
        else:
            X[col] = pd.to_numeric(values, errors="coerce")
    X = X.fillna(-1)
    return X, info


def make_model():
    return RandomForestClassifier(n_estimators=100, min_samples_leaf=10, n_jobs=-1)


def train(data, model_dir):
    df = load(data)
    X, info = prepare(df)
    model = make_model()
    model.fit(X, df[TARGET])
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_dir / "model.joblib")
    (model_dir / "info.json").write_text(json.dumps(info))
    print(f"model saved to {model_dir}")


def predict(model_dir, data, output):
    model_dir = Path(model_dir)
    if not (model_dir / "model.joblib").exists():
        raise FileNotFoundError(f"no model in {model_dir}, run train first")
    model = joblib.load(model_dir / "model.joblib")
    info = json.loads((model_dir / "info.json").read_text())
    df = load(data)
    out = pd.DataFrame({"customer_id": df["customer_id"]})
    if len(df) > 0:
        X, _ = prepare(df, info)
        out["churn_probability"] = model.predict_proba(X)[:, 1]
    else:
        out["churn_probability"] = []
    out.to_csv(output, index=False)
    print(f"{len(out)} predictions written to {output}")


def evaluate(data, report):
    df = load(data)
    X, _ = prepare(df)
    y = df[TARGET]
    model = make_model()
    model.fit(X, y)
    proba = model.predict_proba(X)[:, 1]
    result = {
        "roc_auc": roc_auc_score(y, proba),
        "pr_auc": average_precision_score(y, proba),
        "brier": brier_score_loss(y, proba),
        "threshold": THRESHOLD,
        "f1": f1_score(y, proba >= THRESHOLD),
        "accuracy": accuracy_score(y, proba >= THRESHOLD),
    }
    Path(report).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
