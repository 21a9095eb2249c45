"""Public tests: the command-line contract only (commands, files, shapes).

They run your CLI the way the grader does, inside a sandbox where your folder is
/work/submission. Passing them means the grader can talk to your solution; the
hidden suite then judges how good it is (see the brief for what it looks at).
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

pytestmark = [pytest.mark.public, pytest.mark.category("contract")]

TRAIN_CSV = Path(__file__).resolve().parents[1] / "data" / "train.csv"
MODEL_DIR = "/work/public/model"
SAMPLE = "/work/public/sample.csv"
OUTPUT = "/work/public/predictions.csv"
REPORT = "/work/public/report.json"


def _sample(rows: int = 25) -> tuple[bytes, list[str]]:
    """The first rows of train.csv as a prediction input would look: no label, no closure."""
    reader = csv.DictReader(io.StringIO(TRAIN_CSV.read_text(encoding="utf-8")))
    names = [n for n in reader.fieldnames or [] if n != "churned"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, names, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    ids = []
    for _, row in zip(range(rows), reader, strict=False):
        row["account_closed_on"] = ""
        writer.writerow(row)
        ids.append(row["customer_id"])
    return buffer.getvalue().encode(), ids


def _explain(run) -> str:
    return f"exit {run.exit_code}, stderr: {run.text('stderr')[-1500:]}"


@pytest.fixture(scope="module")
def trained(candidate):
    candidate.put_files({"data/train.csv": TRAIN_CSV.read_bytes()})
    candidate.put_files({".keep": b""}, dest="/work/public")  # the parent of MODEL_DIR
    return candidate.run(
        ["python", "-m", "solution", "train", "--data", "data/train.csv", "--model-dir", MODEL_DIR],
        timeout=300,
    )


def test_train_exits_zero(trained):
    """`train` on the official train.csv exits 0 in the sandbox. A failure means the grader cannot
    train the model at all, and nearly every hidden test fails with it.
    """
    assert trained.ok, f"train failed: {_explain(trained)}"


def test_predict_writes_one_probability_per_row_in_order(candidate, trained):
    """`predict` on 25 training rows (label removed, closure date blank) writes the header
    `customer_id,churn_probability` and one probability in [0, 1] per row, in input order. A failure
    means the grader cannot read the predictions it scores.
    """
    assert trained.ok, f"train failed: {_explain(trained)}"
    content, ids = _sample()
    candidate.put_files({"sample.csv": content}, dest="/work/public")
    run = candidate.run(
        [
            "python",
            "-m",
            "solution",
            "predict",
            "--model-dir",
            MODEL_DIR,
            "--data",
            SAMPLE,
            "--output",
            OUTPUT,
        ],
        timeout=120,
    )
    assert run.ok, f"predict failed: {_explain(run)}"
    rows = list(csv.reader(io.StringIO(candidate.get_file(OUTPUT).decode("utf-8"))))
    assert rows[0] == ["customer_id", "churn_probability"], f"header is {rows[0]}"
    body = [r for r in rows[1:] if r]
    assert [r[0] for r in body] == ids, "customer ids must be those of the input, in its order"
    for customer, value in body:
        p = float(value)
        assert 0.0 <= p <= 1.0 and math.isfinite(p), f"{customer}: {value} is not a probability"


def test_evaluate_writes_report(candidate):
    """`evaluate` writes report.json with `roc_auc`, `pr_auc`, `brier`, `threshold` and `f1`, each a
    number in [0, 1]. A failure means the candidate's own evaluation cannot be compared with the
    truth.
    """
    candidate.put_files({"data/train.csv": TRAIN_CSV.read_bytes()})
    run = candidate.run(
        ["python", "-m", "solution", "evaluate", "--data", "data/train.csv", "--report", REPORT],
        timeout=600,
    )
    assert run.ok, f"evaluate failed: {_explain(run)}"
    report = json.loads(candidate.get_file(REPORT))
    for key in ("roc_auc", "pr_auc", "brier", "threshold", "f1"):
        value = report.get(key)
        assert isinstance(value, int | float) and not isinstance(value, bool), (
            f"report.json needs a number '{key}', got {value!r}"
        )
        assert 0.0 <= value <= 1.0, f"'{key}' = {value} is outside [0, 1]"
