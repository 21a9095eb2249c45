"""Fixtures of the churn exercise's hidden suite (trusted side; see README.md).

The candidate's CLI runs in the sandbox; everything that judges it runs here.
Session fixtures run each expensive command once (two trainings, one
evaluation, one prediction per input file) and hand the tests plain results
with a `problem` string instead of raising, so a broken step fails the tests
that need it with a message saying why, and nothing else.

Sandbox layout used by the suite:
    /work/submission/data/train.csv   the official training data (overwritten)
    /work/grading/models/<name>/      model directories the suite asks for
    /work/grading/inputs/<name>.csv   holdout FEATURES and derived robustness inputs
    /work/grading/outputs/<name>.csv  the candidate's predictions
Holdout labels stay in this process.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

SUBMISSION = "/work/submission"
MODELS = "/work/grading/models"
INPUTS = "/work/grading/inputs"
OUTPUTS = "/work/grading/outputs"
ID = "customer_id"
PROBABILITY = "churn_probability"
# Back-filled from the label: a date only for customers who churned (README.md, "The leak").
LEAKY = "account_closed_on"
OUTPUT_HEADER = [ID, PROBABILITY]
REPORT_KEYS = ("roc_auc", "pr_auc", "brier", "threshold", "f1")
# Levels no export has ever contained, one per categorical column.
UNSEEN_LEVELS = {
    "region": "antarctica",
    "postal_area": "ZZ9999",
    "plan": "enterprise",
    "billing_cycle": "quarterly",
    "payment_method": "crypto",
    "acquisition_channel": "podcast",
}

# Hard stops per command. The training *budget* ([budgets] in exercise.toml) is tighter
# and is checked by test_budgets.py on the measured run, so a slow solution
# fails its budget test but still gets judged on everything else.
TRAIN_TIMEOUT_S = 180.0
PREDICT_TIMEOUT_S = 60.0
EVALUATE_TIMEOUT_S = 600.0
# After this many predict timeouts, further predictions are not attempted so a
# hanging submission cannot eat the whole grading budget.
MAX_PREDICT_TIMEOUTS = 2
WARM_UP = (
    "import numpy, pandas, scipy.sparse, joblib, sklearn.ensemble, sklearn.linear_model, "
    "sklearn.model_selection, sklearn.preprocessing, sklearn.compose, sklearn.pipeline, "
    "sklearn.impute, sklearn.metrics"
)
# How many rows without any missing value the robustness inputs are made of.
BASE_ROWS = 500

# The training budget stated in brief.md, checked by test_budgets.py on the first
# `train` run. The manifest's [sandbox] hard limits are far above it (3 GB, 300 s).


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Table:
    """A CSV file as text cells: enough to derive inputs without pandas."""

    header: list[str]
    rows: list[list[str]]

    @classmethod
    def parse(cls, content: bytes) -> Table:
        reader = csv.reader(io.StringIO(content.decode("utf-8")))
        header, *rows = list(reader)
        return cls(header, rows)

    def to_bytes(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.header)
        writer.writerows(self.rows)
        return buffer.getvalue().encode("utf-8")

    def column(self, name: str) -> list[str]:
        index = self.header.index(name)
        return [row[index] for row in self.rows]

    def ids(self) -> list[str]:
        return self.column(ID)

    def subset(self, rows: list[list[str]]) -> Table:
        return Table(list(self.header), [list(r) for r in rows])


@dataclass(frozen=True)
class Holdout:
    name: str
    features: Table
    labels: np.ndarray  # aligned with features.rows

    @property
    def content(self) -> bytes:
        return self.features.to_bytes()


@dataclass(frozen=True)
class ChurnData:
    train_csv: bytes
    holdouts: dict[str, Holdout]

    @property
    def base(self) -> Table:
        """Complete rows of holdout A: the robustness inputs are derived from these."""
        a = self.holdouts["a"].features
        leaky = a.header.index(LEAKY)
        complete = [
            row for row in a.rows if all(cell != "" for i, cell in enumerate(row) if i != leaky)
        ]
        return a.subset(complete[:BASE_ROWS])


def load_data(exercise_root: Path) -> ChurnData:
    hidden = exercise_root / "hidden" / "data"
    holdouts = {}
    for name in ("a", "b"):
        features = Table.parse((hidden / f"holdout_{name}.csv").read_bytes())
        labels_table = Table.parse((hidden / f"holdout_{name}_labels.csv").read_bytes())
        by_id = dict(zip(labels_table.ids(), labels_table.column("churned"), strict=True))
        labels = np.array([int(by_id[i]) for i in features.ids()])
        holdouts[name] = Holdout(name, features, labels)
    train = (exercise_root / "starter" / "data" / "train.csv").read_bytes()
    return ChurnData(train, holdouts)


def unseen_categories(base: Table) -> Table:
    """Each row gets a never-seen level in one categorical column, every tenth in all."""
    table = base.subset(base.rows)
    columns = [table.header.index(c) for c in UNSEEN_LEVELS]
    for i, row in enumerate(table.rows):
        for j in columns if i % 10 == 0 else [columns[i % len(columns)]]:
            row[j] = UNSEEN_LEVELS[table.header[j]]
    return table


def missing_everywhere(base: Table) -> Table:
    """Blanks in every feature column, in pairs, and every 25th row all blank but the id."""
    table = base.subset(base.rows)
    features = [j for j, name in enumerate(table.header) if name != ID]
    for i, row in enumerate(table.rows):
        if i % 25 == 0:
            chosen = features
        else:
            chosen = [features[i % len(features)], features[(7 * i + 3) % len(features)]]
        for j in chosen:
            row[j] = ""
    return table


def extra_columns(base: Table) -> Table:
    """Three unknown columns: first, in the middle, last (text with a comma in it)."""
    header = ["segment_code", *base.header[:5], "nps_raw", *base.header[5:], "notes"]
    rows = [
        [f"S{i % 7}", *row[:5], f"{(i * 37) % 101 / 10:.1f}", *row[5:], f"call back, ticket {i}"]
        for i, row in enumerate(base.rows)
    ]
    return Table(header, rows)


def shuffled_columns(base: Table) -> Table:
    """A fixed permutation of the columns that does not start with the id."""
    order = [int(j) for j in np.random.RandomState(7).permutation(len(base.header))]
    if order[0] == base.header.index(ID):
        order = order[1:] + order[:1]
    return Table([base.header[j] for j in order], [[row[j] for j in order] for row in base.rows])


def closure_dates_filled(base: Table, train_csv: bytes) -> Table:
    """`base` with `account_closed_on` filled on every row, cycling through the closure
    dates train.csv holds: what the column says of customers who have already left."""
    dates = sorted({d for d in Table.parse(train_csv).column(LEAKY) if d})
    table = base.subset(base.rows)
    j = table.header.index(LEAKY)
    for i, row in enumerate(table.rows):
        row[j] = dates[(7 * i) % len(dates)]
    return table


def robustness_inputs(base: Table) -> dict[str, Table]:
    return {
        "unseen_categories": unseen_categories(base),
        "missing_values": missing_everywhere(base),
        "extra_columns": extra_columns(base),
        "shuffled_columns": shuffled_columns(base),
        "single_row": base.subset(base.rows[:1]),
        "header_only": base.subset([]),
    }


# ---------------------------------------------------------------------- outcomes


def tail(data: bytes, limit: int = 1500) -> str:
    text = data.decode("utf-8", errors="replace").strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def describe_failure(what: str, run: Any) -> str:
    if run.timed_out:
        return f"{what} timed out after {run.wall_s:.0f} s"
    if run.oom_killed:
        return f"{what} was killed for exceeding the sandbox memory"
    return f"{what} exited with status {run.exit_code}; stderr: {tail(run.stderr) or '(empty)'}"


def has_traceback(run: Any) -> bool:
    return b"Traceback (most recent call last)" in run.stderr


@dataclass
class Training:
    model_dir: str
    run: Any = None
    problem: str | None = None

    def require(self) -> None:
        if self.problem:
            pytest.fail(f"training is required for this check and failed: {self.problem}")


@dataclass
class Prediction:
    """The candidate's predictions for one input file, checked against the contract."""

    name: str
    expected_ids: list[str]
    run: Any = None
    probabilities: np.ndarray | None = None
    problem: str | None = None

    @property
    def traceback(self) -> bool:
        return self.run is not None and has_traceback(self.run)

    def require(self) -> np.ndarray:
        if self.problem or self.probabilities is None:
            pytest.fail(f"no valid predictions for '{self.name}': {self.problem}")
        return self.probabilities


@dataclass
class Evaluation:
    run: Any = None
    report: dict[str, float] = field(default_factory=dict)
    problem: str | None = None

    def require(self) -> dict[str, float]:
        if self.problem:
            pytest.fail(f"no usable report.json: {self.problem}")
        return self.report


def parse_predictions(content: bytes, expected_ids: list[str]) -> tuple[np.ndarray | None, str]:
    """The probabilities in input order, or None and what is wrong with the file."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "output is not UTF-8 text"
    rows = [row for row in csv.reader(io.StringIO(text)) if row]
    if not rows:
        return None, "output file is empty (expected at least the header line)"
    header = [cell.strip() for cell in rows[0]]
    if header != OUTPUT_HEADER:
        return None, f"header is {header}, expected {OUTPUT_HEADER}"
    body = rows[1:]
    if len(body) != len(expected_ids):
        return None, f"{len(body)} prediction rows for {len(expected_ids)} input rows"
    if any(len(row) != 2 for row in body):
        return None, "some rows do not have exactly two fields"
    ids = [row[0].strip() for row in body]
    if ids != expected_ids:
        if sorted(ids) == sorted(expected_ids):
            return None, "customer ids are not in input order"
        first = next(i for i, (a, b) in enumerate(zip(ids, expected_ids, strict=True)) if a != b)
        return None, f"row {first + 1}: id {ids[first]!r}, expected {expected_ids[first]!r}"
    try:
        values = np.array([float(row[1]) for row in body], dtype=float)
    except ValueError as exc:
        return None, f"a probability is not a number ({exc})"
    if not np.all(np.isfinite(values)):
        return None, f"{int(np.sum(~np.isfinite(values)))} probabilities are NaN or infinite"
    if np.any((values < 0) | (values > 1)):
        return None, f"probabilities outside [0, 1]: min {values.min()}, max {values.max()}"
    return values, ""


def parse_report(content: bytes) -> tuple[dict[str, float], str]:
    try:
        report = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        return {}, f"report.json is not valid JSON ({exc})"
    if not isinstance(report, dict):
        return {}, "report.json is not a JSON object"
    values: dict[str, float] = {}
    for key in REPORT_KEYS:
        value = report.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return {}, f"'{key}' is missing or not a number (got {value!r})"
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            return {}, f"'{key}' = {value!r} is not a finite number in [0, 1]"
        values[key] = float(value)
    return values, ""


# ----------------------------------------------------------------------- the CLI


class ChurnCLI:
    """The candidate's three commands, run in the sandbox; results cached by name."""

    def __init__(self, candidate: Any, data: ChurnData) -> None:
        self.candidate = candidate
        self.data = data
        self.trainings: dict[str, Training] = {}
        self.predictions: dict[tuple[str, str], Prediction] = {}
        self.evaluation: Evaluation | None = None
        self.predict_timeouts = 0
        candidate.put_files({"data/train.csv": data.train_csv}, dest=SUBMISSION)
        # The parents of every path the suite passes exist, so a plain os.mkdir or
        # open() in the candidate's code works.
        candidate.put_files(
            {f"{d}/.keep": b"" for d in ("models", "inputs", "outputs")}, dest="/work/grading"
        )
        # A fresh container reads the libraries from disk on first import (20 s and
        # more on a busy host); warm that cache so the measured training run pays
        # only for the candidate's own work.
        candidate.run(["python", "-c", WARM_UP], cwd="/tmp", timeout=120)

    def python(self, *args: str, timeout: float) -> Any:
        return self.candidate.run(["python", "-m", "solution", *args], timeout=timeout)

    def train(self, name: str) -> Training:
        if name not in self.trainings:
            model_dir = f"{MODELS}/{name}"
            run = self.python(
                "train",
                "--data",
                "data/train.csv",
                "--model-dir",
                model_dir,
                timeout=TRAIN_TIMEOUT_S,
            )
            training = Training(model_dir, run)
            if not run.ok:
                training.problem = describe_failure("train", run)
            self.trainings[name] = training
        return self.trainings[name]

    def predict(
        self,
        name: str,
        table: Table | bytes,
        *,
        model: str = "main",
        expected_ids: list[str] | None = None,
        model_dir: str | None = None,
    ) -> Prediction:
        key = (model if model_dir is None else model_dir, name)
        if key in self.predictions:
            return self.predictions[key]
        content = table.to_bytes() if isinstance(table, Table) else table
        ids = expected_ids if expected_ids is not None else Table.parse(content).ids()
        prediction = Prediction(name, ids)
        self.predictions[key] = prediction
        training = self.train(model)
        if training.problem:
            prediction.problem = f"training failed: {training.problem}"
            return prediction
        if self.predict_timeouts >= MAX_PREDICT_TIMEOUTS:
            prediction.problem = "not attempted: earlier predict calls timed out"
            return prediction
        self.candidate.put_files({f"{name}.csv": content}, dest=INPUTS)
        output = f"{OUTPUTS}/{name}-{model}.csv"
        run = prediction.run = self.python(
            "predict",
            "--model-dir",
            model_dir or training.model_dir,
            "--data",
            f"{INPUTS}/{name}.csv",
            "--output",
            output,
            timeout=PREDICT_TIMEOUT_S,
        )
        if run.timed_out:
            self.predict_timeouts += 1
        if not run.ok:
            prediction.problem = describe_failure("predict", run)
            return prediction
        try:
            produced = self.candidate.get_file(output, max_bytes=16 << 20)
        except FileNotFoundError:
            prediction.problem = f"predict exited 0 but wrote no {output}"
            return prediction
        prediction.probabilities, problem = parse_predictions(produced, ids)
        prediction.problem = problem or None
        return prediction

    def holdout(self, name: str, *, model: str = "main") -> Prediction:
        holdout = self.data.holdouts[name]
        return self.predict(f"holdout_{name}", holdout.features, model=model)

    def evaluate(self) -> Evaluation:
        if self.evaluation is None:
            report_path = "/work/grading/report.json"
            run = self.python(
                "evaluate",
                "--data",
                "data/train.csv",
                "--report",
                report_path,
                timeout=EVALUATE_TIMEOUT_S,
            )
            evaluation = Evaluation(run)
            if not run.ok:
                evaluation.problem = describe_failure("evaluate", run)
            else:
                try:
                    content = self.candidate.get_file(report_path, max_bytes=1 << 20)
                except FileNotFoundError:
                    evaluation.problem = f"evaluate exited 0 but wrote no {report_path}"
                else:
                    evaluation.report, problem = parse_report(content)
                    evaluation.problem = problem or None
            self.evaluation = evaluation
        return self.evaluation


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def churn_data(exercise: Any) -> ChurnData:
    return load_data(Path(exercise.root))


@pytest.fixture(scope="session")
def cli(candidate: Any, churn_data: ChurnData) -> ChurnCLI:
    return ChurnCLI(candidate, churn_data)


@pytest.fixture(scope="session")
def training(cli: ChurnCLI) -> Training:
    return cli.train("main")


@pytest.fixture(scope="session")
def evaluation(cli: ChurnCLI) -> Evaluation:
    return cli.evaluate()


@pytest.fixture(scope="session")
def holdout(cli: ChurnCLI) -> Callable[[str], Prediction]:
    """holdout("a") -> the main model's predictions for holdout A (run once)."""
    return cli.holdout


@pytest.fixture(scope="session")
def base_prediction(cli: ChurnCLI, churn_data: ChurnData) -> Prediction:
    """Predictions for the complete rows the robustness inputs are derived from."""
    return cli.predict("base", churn_data.base)


@pytest.fixture(scope="session")
def closure_dates_prediction(cli: ChurnCLI, churn_data: ChurnData) -> Prediction:
    """Predictions for `base` with account_closed_on filled in, as for churned customers."""
    filled = closure_dates_filled(churn_data.base, churn_data.train_csv)
    return cli.predict("closure_dates_filled", filled)


@pytest.fixture(scope="session")
def robustness(cli: ChurnCLI, churn_data: ChurnData) -> Callable[[str], Prediction]:
    """robustness("missing_values") -> predictions for that derived input (run once)."""
    inputs = robustness_inputs(churn_data.base)
    return lambda name: cli.predict(name, inputs[name])


@pytest.fixture(scope="session")
def budgets(exercise: Any) -> dict[str, float]:
    """The training budget, from the manifest's [budgets] table."""
    return dict(exercise.manifest.budgets)
