"""Seeded generator of the churn exercise's data. Needs only numpy.

    python generate.py               # rewrites ../starter/data/train.csv and ./data/*
    python generate.py --root DIR    # writes the same tree under DIR instead

Every file is a pure function of SEED: running it again gives byte-identical
files. See README.md in this folder for the latent model and for what each file
is for. Only numpy's legacy `RandomState` is used because its streams are frozen
across numpy versions (the `Generator` streams are not promised to be).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEED = 20240630
N_TRAIN = 20_000
N_HOLDOUT_A = 6_000  # same period and population as train
N_HOLDOUT_B = 4_000  # the next quarter: mild covariate drift

TRAIN_SNAPSHOT = dt.date(2024, 6, 30)
NEXT_SNAPSHOT = dt.date(2024, 9, 30)
HORIZON_DAYS = 90  # "churned" = the account closed within 90 days after the snapshot

PLANS = ["basic", "standard", "premium", "family"]
PLAN_FEE = {"basic": 8.99, "standard": 13.99, "premium": 19.99, "family": 24.99}
PLAN_EFFECT = {"basic": 0.25, "standard": 0.0, "premium": -0.2, "family": -0.45}
BILLING = ["monthly", "annual"]
PAYMENTS = ["card", "paypal", "bank_transfer", "invoice"]
PAYMENT_EFFECT = {"card": 0.0, "paypal": 0.1, "bank_transfer": -0.15, "invoice": 0.45}
CHANNELS = ["organic", "search", "social", "referral", "partner", "tv"]
CHANNEL_EFFECT = {
    "organic": 0.0,
    "search": 0.05,
    "social": 0.35,
    "referral": -0.35,
    "partner": 0.15,
    "tv": 0.1,
}
REGIONS = ["north", "south", "east", "west", "central", "coast", "highlands", "islands"]
N_AREAS = 1_500  # postal areas known in the training period
N_NEW_AREAS = 300  # areas that only appear in the next quarter (holdout B)

# Column order of every file. `churned` only in train; labels go to separate files.
FEATURES = [
    "customer_id",
    "age",
    "region",
    "postal_area",
    "plan",
    "billing_cycle",
    "payment_method",
    "acquisition_channel",
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
    "account_closed_on",
]
TARGET = "churned"


@dataclass(frozen=True)
class Period:
    """How one population differs from the training one (covariate drift only)."""

    snapshot: dt.date
    new_customer_share: float = 0.0  # extra mass on short tenures
    engagement_shift: float = 0.0
    social_boost: float = 0.0
    new_area_share: float = 0.0
    survey_missing: float = 0.55
    leak_visible: bool = True  # the closure date is back-filled only for past periods


TRAIN_PERIOD = Period(snapshot=TRAIN_SNAPSHOT)
HOLDOUT_B_PERIOD = Period(
    snapshot=NEXT_SNAPSHOT,
    new_customer_share=0.08,
    engagement_shift=-0.1,
    social_boost=0.05,
    new_area_share=0.12,
    survey_missing=0.65,
    leak_visible=False,
)


class World:
    """What is fixed across periods: postal areas, their regions and their effects."""

    def __init__(self, rng: np.random.RandomState) -> None:
        n = N_AREAS + N_NEW_AREAS
        codes = rng.choice(np.arange(1000, 10000), size=n, replace=False)
        self.areas = np.array([f"PA{c:04d}" for c in codes])
        self.area_region = rng.randint(0, len(REGIONS), size=n)
        self.area_effect = rng.normal(0.0, 0.45, size=n)
        ranks = rng.permutation(N_AREAS)
        weights = 1.0 / (ranks + 8.0) ** 0.85
        self.known_p = weights / weights.sum()
        new_weights = 1.0 / (np.arange(N_NEW_AREAS) + 8.0) ** 0.85
        self.new_p = new_weights / new_weights.sum()
        self.region_effect = rng.normal(0.0, 0.15, size=len(REGIONS))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def simulate(
    rng: np.random.RandomState, world: World, period: Period, ids: np.ndarray
) -> dict[str, np.ndarray]:
    """Draw len(ids) customers of one period and their churn labels."""
    n = len(ids)
    # Who the customer is.
    from_new_area = rng.uniform(size=n) < period.new_area_share
    area_idx = np.where(
        from_new_area,
        N_AREAS + rng.choice(N_NEW_AREAS, size=n, p=world.new_p),
        rng.choice(N_AREAS, size=n, p=world.known_p),
    )
    region_idx = world.area_region[area_idx]
    age = np.clip(np.round(rng.normal(41, 13, size=n)), 18, 85)
    channel_p = np.array([0.30, 0.22, 0.16, 0.14, 0.10, 0.08])
    channel_p[2] += period.social_boost
    channel_p /= channel_p.sum()
    channel_idx = rng.choice(len(CHANNELS), size=n, p=channel_p)
    plan_idx = rng.choice(len(PLANS), size=n, p=[0.34, 0.36, 0.19, 0.11])
    annual = rng.uniform(size=n) < np.where(plan_idx >= 2, 0.38, 0.24)
    payment_idx = rng.choice(len(PAYMENTS), size=n, p=[0.52, 0.24, 0.14, 0.10])

    # How long they have been a customer (a mix of recent sign-ups and old hands).
    recent = rng.uniform(size=n) < 0.28 + period.new_customer_share
    tenure = np.where(recent, rng.exponential(4.0, size=n), rng.exponential(26.0, size=n) + 3)
    tenure = np.clip(np.floor(tenure), 0, 120)

    # Money.
    base_fee = np.array([PLAN_FEE[PLANS[i]] for i in plan_idx])
    discount = np.where(
        rng.uniform(size=n) < np.where(tenure < 6, 0.35, 0.08),
        rng.choice([10.0, 20.0, 30.0, 50.0], size=n, p=[0.4, 0.3, 0.2, 0.1]),
        0.0,
    )
    fee = base_fee * (1 - discount / 100) * np.where(annual, 0.85, 1.0)
    fee = fee + rng.normal(0.0, 0.6, size=n)  # add-ons, taxes
    fee = np.round(np.clip(fee, 2.0, None), 2)
    num_devices = np.clip(rng.poisson(np.where(plan_idx == 3, 3.2, 1.6)), 1, 8)

    # Engagement: a latent trait seen only through noisy usage signals.
    engagement = rng.normal(period.engagement_shift, 1.0, size=n)
    sessions = rng.poisson(np.exp(2.3 + 0.55 * engagement))
    minutes = np.round(np.exp(2.8 + 0.35 * engagement + rng.normal(0, 0.45, size=n)), 1)
    last_login = np.round(rng.exponential(np.exp(1.4 - 0.8 * engagement)))
    tickets = rng.poisson(0.35 + 0.25 * (engagement < -1) + 0.3 * (tenure < 3))
    failed = rng.poisson(np.where(payment_idx == 3, 0.45, 0.12))
    satisfaction = np.clip(
        np.round(3.3 + 0.6 * engagement - 0.35 * tickets + rng.normal(0, 0.8, size=n)), 1, 5
    )

    # The latent churn model (the same in every period).
    logit = (
        -3.75
        + 1.35 * np.exp(-tenure / 6.0)
        + 0.55 * (~annual)
        - 0.45 * (annual & (tenure >= 12))
        - 0.85 * engagement
        - 0.55 * np.tanh(engagement - 1.0)  # saturating benefit of heavy use
        + 0.38 * np.minimum(failed, 3)
        + 0.30 * np.minimum(tickets, 4)
        + 0.35 * (3.0 - satisfaction)
        + np.array([PLAN_EFFECT[PLANS[i]] for i in plan_idx])
        + np.array([PAYMENT_EFFECT[PAYMENTS[i]] for i in payment_idx])
        + np.array([CHANNEL_EFFECT[CHANNELS[i]] for i in channel_idx])
        + 0.045 * (fee - base_fee)  # price sensitivity around the list price
        + 0.6 * ((discount > 0) & (tenure < 6))  # promo hunters leave when it ends
        + world.area_effect[area_idx]
        + world.region_effect[region_idx]
        - 0.012 * (age - 41)
        + 0.22 * ((age - 41) / 13) ** 2  # the young and the old leave more
        + 0.8 * (last_login > 10)  # a lapsed user is about to go
        + 0.25 * (num_devices == 1)
    )
    churned = (rng.uniform(size=n) < _sigmoid(logit)).astype(int)

    # The leak: closure dates, back-filled from the label after the horizon passed.
    closed_offset = rng.randint(1, HORIZON_DAYS + 1, size=n)
    closed_on = np.array(
        [
            (period.snapshot + dt.timedelta(days=int(d))).isoformat()
            if (c and period.leak_visible)
            else ""
            for c, d in zip(churned, closed_offset, strict=True)
        ],
        dtype=object,
    )

    # Missing values, some of them informative.
    survey_missing = rng.uniform(size=n) < np.clip(
        period.survey_missing + 0.12 * (engagement < -0.5), 0, 1
    )
    columns: dict[str, np.ndarray] = {
        "customer_id": ids,
        "age": _with_missing(rng, age, 0.08),
        "region": _with_missing(rng, np.array(REGIONS, dtype=object)[region_idx], 0.02),
        "postal_area": _with_missing(rng, world.areas[area_idx].astype(object), 0.03),
        "plan": np.array(PLANS, dtype=object)[plan_idx],
        "billing_cycle": np.where(annual, "annual", "monthly").astype(object),
        "payment_method": _with_missing(rng, np.array(PAYMENTS, dtype=object)[payment_idx], 0.04),
        "acquisition_channel": _with_missing(
            rng, np.array(CHANNELS, dtype=object)[channel_idx], 0.06
        ),
        "tenure_months": tenure,
        "monthly_fee": _with_missing(rng, fee, 0.02),
        "discount_pct": discount,
        "num_devices": _with_missing(rng, num_devices.astype(float), 0.05),
        "sessions_last_30d": _with_missing(rng, sessions.astype(float), 0.03),
        "avg_session_minutes": np.where(sessions == 0, np.nan, _with_missing(rng, minutes, 0.06)),
        "days_since_last_login": _with_missing(rng, last_login, 0.04),
        "support_tickets_90d": tickets.astype(float),
        "failed_payments_12m": _with_missing(rng, failed.astype(float), 0.03),
        "satisfaction_score": np.where(survey_missing, np.nan, satisfaction),
        "account_closed_on": closed_on,
        TARGET: churned,
    }
    return columns


def _with_missing(rng: np.random.RandomState, values: np.ndarray, rate: float) -> np.ndarray:
    drop = rng.uniform(size=len(values)) < rate
    if values.dtype == object:
        out = values.copy()
        out[drop] = ""
        return out
    return np.where(drop, np.nan, values.astype(float))


INTEGER_COLUMNS = {
    "age",
    "tenure_months",
    "discount_pct",
    "num_devices",
    "sessions_last_30d",
    "days_since_last_login",
    "support_tickets_90d",
    "failed_payments_12m",
    "satisfaction_score",
}


def _format(column: str, value: object) -> str:
    if isinstance(value, str):
        return value
    number = float(value)  # type: ignore[arg-type]
    if np.isnan(number):
        return ""
    if column in INTEGER_COLUMNS or column == TARGET:
        return str(int(number))
    return f"{number:.2f}" if column == "monthly_fee" else f"{number:.1f}"


def to_csv(columns: dict[str, np.ndarray], names: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    n = len(columns[names[0]])
    for i in range(n):
        writer.writerow([_format(name, columns[name][i]) for name in names])
    return buffer.getvalue().encode("utf-8")


def generate() -> dict[str, bytes]:
    """All files, keyed by their path relative to the exercise folder."""
    rng = np.random.RandomState(SEED)
    world = World(rng)
    total = N_TRAIN + N_HOLDOUT_A + N_HOLDOUT_B
    numbers = rng.choice(np.arange(1_000_000, 10_000_000), size=total, replace=False)
    ids = np.array([f"C{k}" for k in numbers], dtype=object)

    # Train and holdout A are one draw of the training period, split at random.
    same_period = simulate(rng, world, TRAIN_PERIOD, ids[: N_TRAIN + N_HOLDOUT_A])
    order = rng.permutation(N_TRAIN + N_HOLDOUT_A)
    train = {k: v[order[:N_TRAIN]] for k, v in same_period.items()}
    holdout_a = {k: v[order[N_TRAIN:]] for k, v in same_period.items()}
    # At prediction time nobody has closed their account yet: the column is blank.
    holdout_a["account_closed_on"] = np.full(N_HOLDOUT_A, "", dtype=object)
    holdout_b = simulate(rng, world, HOLDOUT_B_PERIOD, ids[N_TRAIN + N_HOLDOUT_A :])

    labels = ["customer_id", TARGET]
    return {
        "starter/data/train.csv": to_csv(train, [*FEATURES, TARGET]),
        "hidden/data/holdout_a.csv": to_csv(holdout_a, FEATURES),
        "hidden/data/holdout_a_labels.csv": to_csv(holdout_a, labels),
        "hidden/data/holdout_b.csv": to_csv(holdout_b, FEATURES),
        "hidden/data/holdout_b_labels.csv": to_csv(holdout_b, labels),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(__file__).resolve().parent.parent,
        help="exercise folder to write into (default: the one this file lives in)",
    )
    args = parser.parse_args(argv)
    for relative, content in generate().items():
        path = args.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        print(f"wrote {path} ({len(content):,} bytes)")


if __name__ == "__main__":
    main()
