"""The model: preprocessing and gradient boosting in one scikit-learn pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder, TargetEncoder

from solution import __version__, schema
from solution.data import InputError

SEED = 0
MODEL_FILE = "model.joblib"
META_FILE = "metadata.json"


def build_pipeline(seed: int = SEED) -> Pipeline:
    """A fresh, unfitted pipeline. Every random choice is seeded."""
    encode = ColumnTransformer(
        [
            (
                "categorical",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=np.nan,
                    encoded_missing_value=np.nan,
                ),
                list(schema.CATEGORICAL),
            ),
            (
                # Cross-fitted inside fit_transform, so a row never sees its own label.
                "high_cardinality",
                TargetEncoder(cv=StratifiedKFold(5, shuffle=True, random_state=seed)),
                list(schema.HIGH_CARDINALITY),
            ),
            ("numeric", "passthrough", list(schema.NUMERIC)),
        ],
        verbose_feature_names_out=False,
    )
    boost = HistGradientBoostingClassifier(
        learning_rate=0.04,
        max_iter=300,
        max_leaf_nodes=8,
        min_samples_leaf=80,
        l2_regularization=1.0,
        categorical_features=list(range(len(schema.CATEGORICAL))),
        early_stopping=False,  # a fixed number of rounds: no random validation split
        random_state=seed,
    )
    return Pipeline([("encode", encode), ("boost", boost)])


def features(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[:, list(schema.FEATURES)]


def fit(frame: pd.DataFrame, seed: int = SEED) -> Pipeline:
    if len(frame) < 50 or frame[schema.TARGET].nunique() < 2:
        raise InputError("training data needs at least 50 rows and both classes")
    pipeline = build_pipeline(seed)
    pipeline.fit(features(frame), frame[schema.TARGET].to_numpy())
    return pipeline


def predict_proba(pipeline: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    if len(frame) == 0:
        return np.empty(0)
    probabilities = pipeline.predict_proba(features(frame))[:, 1]
    return np.clip(probabilities, 0.0, 1.0)


def save(pipeline: Pipeline, model_dir: Path, *, n_rows: int, churn_rate: float) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, model_dir / MODEL_FILE)
    meta = {
        "solution_version": __version__,
        "sklearn_version": sklearn.__version__,
        "features": list(schema.FEATURES),
        "training_rows": n_rows,
        "training_churn_rate": round(churn_rate, 6),
    }
    (model_dir / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")


def load(model_dir: Path) -> Pipeline:
    path = model_dir / MODEL_FILE
    if not path.is_file():
        raise InputError(f"no trained model in {model_dir} (run 'train' first)")
    meta_path = model_dir / META_FILE
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("sklearn_version") != sklearn.__version__:
            raise InputError(
                f"model in {model_dir} was trained with scikit-learn "
                f"{meta.get('sklearn_version')}, this is {sklearn.__version__}: retrain it"
            )
    pipeline: Pipeline = joblib.load(path)
    return pipeline
