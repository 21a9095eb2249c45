"""python -m solution {train,predict,evaluate} ...

Logistic regression on the columns of the export: text columns one-hot
encoded with pandas, blanks as 0, everything standardised.
"""

import argparse
import json
import os
import pickle
import sys

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, f1_score, roc_auc_score
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# postal_area has ~1,500 different values: too many dummy columns, so it is left out
DROP = ["customer_id", "churned", "postal_area"]


def make_features(df, columns=None):
    X = df.drop(columns=DROP, errors="ignore")
    X = pd.get_dummies(X, dtype=float)
    X = X.fillna(0)
    if columns is not None:
        # same columns as in training; a level we never saw just gets zeros
        X = X.reindex(columns=columns, fill_value=0)
    return X


def make_model():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def train(args):
    df = pd.read_csv(args.data)
    X = make_features(df)
    model = make_model()
    model.fit(X, df["churned"])
    os.makedirs(args.model_dir, exist_ok=True)
    with open(os.path.join(args.model_dir, "model.pkl"), "wb") as f:
        pickle.dump({"model": model, "columns": list(X.columns)}, f)
    print("model trained on", X.shape[0], "rows and", X.shape[1], "features")


def predict(args):
    with open(os.path.join(args.model_dir, "model.pkl"), "rb") as f:
        saved = pickle.load(f)
    df = pd.read_csv(args.data)
    X = make_features(df, saved["columns"])
    proba = saved["model"].predict_proba(X)[:, 1]
    out = pd.DataFrame({"customer_id": df["customer_id"], "churn_probability": proba})
    out.to_csv(args.output, index=False)


def evaluate(args):
    df = pd.read_csv(args.data)
    X = make_features(df)
    y = df["churned"]
    # 5-fold cross-validation so every row is scored by a model that did not see it
    proba = cross_val_predict(make_model(), X, y, cv=5, method="predict_proba")[:, 1]
    report = {
        "roc_auc": roc_auc_score(y, proba),
        "pr_auc": average_precision_score(y, proba),
        "brier": brier_score_loss(y, proba),
        "threshold": 0.5,
        "f1": f1_score(y, proba >= 0.5),
    }
    with open(args.report, "w") as f:
        json.dump(report, f, indent=2)
    print(report)


def main():
    parser = argparse.ArgumentParser(prog="python -m solution")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("train")
    p.add_argument("--data", required=True)
    p.add_argument("--model-dir", required=True)
    p.set_defaults(func=train)
    p = commands.add_parser("predict")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--output", required=True)
    p.set_defaults(func=predict)
    p = commands.add_parser("evaluate")
    p.add_argument("--data", required=True)
    p.add_argument("--report", required=True)
    p.set_defaults(func=evaluate)
    args = parser.parse_args()
    args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
