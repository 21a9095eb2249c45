# ruff: noqa
# fmt: off
# A fixture on purpose: alice's solution with other names, layout and comments.
'''Churn scoring.

My approach: a logistic regression behind a column transformer, saved with joblib.
'''
from __future__ import annotations
import json
from pathlib import Path
import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (average_precision_score, brier_score_loss,
                             f1_score, roc_auc_score)
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

TARGET = 'churned'
KEY = 'customer_id'
LEAKAGE = ('account_closed_on',)   # only set for people who left -> must not be used!!
NUMS = ('age', 'tenure_months', 'monthly_fee', 'discount_pct', 'num_devices', 'sessions_last_30d',
        'avg_session_minutes', 'days_since_last_login', 'support_tickets_90d',
        'failed_payments_12m', 'satisfaction_score')
CATS = ('region', 'plan', 'billing_cycle', 'payment_method', 'acquisition_channel')
ARTIFACT = 'clf.joblib'
RANDOM_STATE = 7


class ChurnFailure(Exception):
    pass


def load(csv_path: Path, *, has_target: bool) -> pd.DataFrame:
    if not csv_path.is_file(): raise ChurnFailure(f'{csv_path} does not exist')
    try:
        df = pd.read_csv(csv_path, dtype={KEY: str})
    except pd.errors.EmptyDataError:
        raise ChurnFailure(f'{csv_path} is empty') from None
    if KEY not in df.columns:
        raise ChurnFailure(f'{csv_path} lacks {KEY}')
    if has_target and TARGET not in df.columns:
        raise ChurnFailure(f'{csv_path} lacks {TARGET}')
    for col in NUMS:
        if col not in df.columns: df[col] = np.nan
        df[col] = pd.to_numeric(df[col], errors='coerce')
    for col in CATS:
        if col not in df.columns: df[col] = np.nan
        df[col] = df[col].astype('object')
    return df


def make_features(df: pd.DataFrame) -> pd.DataFrame:
    X = df[list(NUMS) + list(CATS)].copy()
    X['fee_dev'] = X['monthly_fee'] / X['num_devices'].clip(lower=1)
    X['idle'] = (X['days_since_last_login'] > 30).astype(float)
    X['surveyed'] = X['satisfaction_score'].notna().astype(float)
    return X


def make_estimator() -> Pipeline:
    nums = [*NUMS, 'fee_dev', 'idle', 'surveyed']
    num_pipe = Pipeline([('imp', SimpleImputer(strategy='median')), ('sc', StandardScaler())])
    cat_pipe = Pipeline([('imp', SimpleImputer(strategy='constant', fill_value='?')),
                         ('ohe', OneHotEncoder(handle_unknown='ignore', min_frequency=10))])
    ct = ColumnTransformer([('n', num_pipe, nums), ('c', cat_pipe, list(CATS))])
    lr = LogisticRegression(max_iter=1000, C=1.0, class_weight='balanced')
    return Pipeline([('ct', ct), ('lr', lr)])


def fit(csv_path: Path, out_dir: Path) -> None:
    df = load(csv_path, has_target=True)
    est = make_estimator()
    est.fit(make_features(df), df[TARGET].astype(int))
    out_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(est, out_dir / ARTIFACT)


def score(out_dir: Path, csv_path: Path, dest: Path) -> None:
    p = out_dir / ARTIFACT
    if not p.is_file():
        raise ChurnFailure(f'no model in {out_dir}')
    est = joblib.load(p)
    df = load(csv_path, has_target=False)
    if df.empty: probs = np.array([], dtype=float)
    else: probs = est.predict_proba(make_features(df))[:, 1]
    out = pd.DataFrame({KEY: df[KEY], 'churn_probability': probs})
    dest.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(dest, index=False)


def cross_scores(df: pd.DataFrame, k: int = 5) -> np.ndarray:
    X = make_features(df)
    y = df[TARGET].astype(int).to_numpy()
    oof = np.zeros(len(df))
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=RANDOM_STATE)
    for tr, te in cv.split(X, y):
        est = make_estimator()
        est.fit(X.iloc[tr], y[tr])
        oof[te] = est.predict_proba(X.iloc[te])[:, 1]
    return oof


def threshold_for(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    grid = np.unique(np.round(p, 2))
    top = (0.5, 0.0)
    for t in grid:
        f = f1_score(y, p >= t, zero_division=0)
        if f > top[1]: top = (float(t), float(f))
    return top


def assess(csv_path: Path, dest: Path) -> None:
    df = load(csv_path, has_target=True)
    y = df[TARGET].astype(int).to_numpy()
    p = cross_scores(df)
    t, f = threshold_for(y, p)
    out = {'roc_auc': float(roc_auc_score(y, p)), 'pr_auc': float(average_precision_score(y, p)),
           'brier': float(brier_score_loss(y, p)), 'threshold': t, 'f1': f,
           'method': 'stratified 5-fold CV', 'rows': int(len(df)), 'churn_rate': float(y.mean())}
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=2) + '\n')
