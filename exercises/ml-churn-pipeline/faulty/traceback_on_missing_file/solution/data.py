"""Reading customer files into a clean, typed frame, whatever their quirks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from solution import schema


class InputError(Exception):
    """A problem with the caller's input, reported as one line, exit status 2."""


def read_customers(path: Path, *, require_target: bool = False) -> pd.DataFrame:
    """Read a CSV export; numeric columns become floats, categories strings or NaN.

    Everything is read as text first so that an odd value in one cell (say
    "n/a" in a numeric column) becomes a missing value instead of turning the
    whole column into strings. Expected feature columns that are absent are
    added as all-missing, so the model still scores every row.
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} is empty: expected a CSV header line") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not a readable CSV file: {exc}") from None

    raw.columns = [str(c).strip() for c in raw.columns]
    if schema.ID not in raw.columns:
        raise InputError(f"{path} has no '{schema.ID}' column")
    if require_target and schema.TARGET not in raw.columns:
        raise InputError(f"{path} has no '{schema.TARGET}' column to learn from")

    frame = pd.DataFrame(index=raw.index)
    frame[schema.ID] = raw[schema.ID].astype(object).where(raw[schema.ID].notna(), "")
    for column in schema.NUMERIC:
        values = raw[column] if column in raw.columns else pd.Series(np.nan, index=raw.index)
        frame[column] = pd.to_numeric(values, errors="coerce").astype(float)
    for column in schema.CATEGORICAL + schema.HIGH_CARDINALITY:
        if column in raw.columns:
            frame[column] = raw[column].astype(object).map(_clean_category).astype(object)
        else:
            frame[column] = pd.Series(np.nan, index=raw.index, dtype=object)
    if require_target:
        target = pd.to_numeric(raw[schema.TARGET], errors="coerce")
        if target.isna().any() or not target.isin([0, 1]).all():
            raise InputError(f"'{schema.TARGET}' must be 0 or 1 in every row of {path}")
        frame[schema.TARGET] = target.astype(int)
    return frame


def _clean_category(value: object) -> object:
    # Case and stray spaces are export noise, not information.
    if isinstance(value, str) and value.strip():
        return value.strip().lower()
    return np.nan


def write_predictions(path: Path, ids: pd.Series, probabilities: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = pd.DataFrame({schema.ID: ids.to_numpy(), "churn_probability": probabilities})
    out.to_csv(path, index=False, float_format="%.8f", lineterminator="\n")
