"""Logistic regression churn model.

Preprocessing (scikit-learn pipeline):
- numeric columns: missing values replaced by the median, then standardised
- categorical columns: missing values become "missing", then one-hot encoded
- postal_area is left out: about 1,500 values is too many to one-hot encode
- account_closed_on is left out: it is only filled for customers who already left
"""

import json
from pathlib import Path

import joblib
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = [
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
]
CATEGORICAL = ["region", "plan", "billing_cycle", "payment_method", "acquisition_channel"]
TARGET = "churned"


def build_model():
    numeric = Pipeline(
        [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
    )
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("onehot", OneHotEncoder()),
        ]
    )
    preprocess = ColumnTransformer(
        [("num", numeric, NUMERIC), ("cat", categorical, CATEGORICAL)]
    )
    return Pipeline([("preprocess", preprocess), ("model", LogisticRegression(max_iter=1000))])


def load(path):
    df = pd.read_csv(path)
    for col in CATEGORICAL:
        df[col] = df[col].astype(object)
    return df


def train(data, model_dir):
    df = load(data)
    model = build_model()
    model.fit(df[NUMERIC + CATEGORICAL], df[TARGET])
    Path(model_dir).mkdir(parents=True, exist_ok=True)
    joblib.dump(model, Path(model_dir) / "model.pkl")
    print("trained on", len(df), "rows")


def predict(model_dir, data, output):
    model = joblib.load(Path(model_dir) / "model.pkl")
    df = load(data)
    if len(df) == 0:
        pd.DataFrame(columns=["customer_id", "churn_probability"]).to_csv(output, index=False)
        return
    proba = model.predict_proba(df[NUMERIC + CATEGORICAL])[:, 1]
    pd.DataFrame({"customer_id": df["customer_id"], "churn_probability": proba}).to_csv(
        output, index=False
    )


def evaluate(data, report):
    """Hold out 20% of the customers, train on the rest, measure on the held-out part."""
    df = load(data)
    X, y = df[NUMERIC + CATEGORICAL], df[TARGET]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=42, stratify=y
    )
    model = build_model()
    model.fit(X_train, y_train)
    proba = model.predict_proba(X_test)[:, 1]
    metrics = {
        "roc_auc": roc_auc_score(y_test, proba),
        "pr_auc": average_precision_score(y_test, proba),
        "brier": brier_score_loss(y_test, proba),
        "threshold": 0.5,
        "f1": f1_score(y_test, proba >= 0.5),
        "test_rows": len(y_test),
    }
    with open(report, "w") as f:
        json.dump(metrics, f, indent=2)
    print(metrics)
