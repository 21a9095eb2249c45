"""Rows of the customer export to a numeric matrix, with no pandas.

The encoder learns the category levels it keeps from the training rows; a level
seen fewer than MIN_COUNT times, or never seen, goes to the "other" column.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MIN_COUNT = 25
NUMBERS = [
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
LEVELS = ["region", "plan", "billing_cycle", "payment_method", "acquisition_channel"]


class BadInput(ValueError):
    pass


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise BadInput(f"{path} has no header line")
        if "customer_id" not in reader.fieldnames:
            raise BadInput(f"{path} has no customer_id column")
        return list(reader)


def parse_number(text: str | None) -> float:
    if text is None or not text.strip():
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


@dataclass
class Encoder:
    levels: dict[str, list[str]] = field(default_factory=dict)

    def fit(self, rows: Iterable[dict[str, str]]) -> Encoder:
        counts: dict[str, Counter[str]] = {name: Counter() for name in LEVELS}
        for row in rows:
            for name in LEVELS:
                counts[name][(row.get(name) or "").strip().lower()] += 1
        self.levels = {
            name: sorted(level for level, n in counted.items() if n >= MIN_COUNT and level)
            for name, counted in counts.items()
        }
        return self

    @property
    def columns(self) -> list[str]:
        names = [f"{n}_missing" for n in NUMBERS] + list(NUMBERS)
        for name in LEVELS:
            names += [f"{name}={level}" for level in self.levels[name]] + [f"{name}=other"]
        return names

    def encode(self, row: dict[str, str]) -> list[float]:
        values = [parse_number(row.get(name)) for name in NUMBERS]
        vector = [1.0 if math.isnan(v) else 0.0 for v in values] + values
        for name in LEVELS:
            level = (row.get(name) or "").strip().lower()
            known = self.levels[name]
            vector += [1.0 if level == k else 0.0 for k in known]
            vector.append(0.0 if level in known else 1.0)
        return vector

    def matrix(self, rows: Sequence[dict[str, str]]) -> list[list[float]]:
        return [self.encode(row) for row in rows]
