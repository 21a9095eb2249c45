"""The churn exercise's generated data: reproducible, shaped as documented, no leaks out.

exercises/ml-churn-pipeline/hidden/generate.py writes the training set into the
starter kit and the holdouts (features and labels in separate files) into hidden/.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

EXERCISE = Path(__file__).resolve().parents[2] / "exercises" / "ml-churn-pipeline"
GENERATED = [
    "starter/data/train.csv",
    "hidden/data/holdout_a.csv",
    "hidden/data/holdout_a_labels.csv",
    "hidden/data/holdout_b.csv",
    "hidden/data/holdout_b_labels.csv",
]
LEAKY = "account_closed_on"


def read(relative: str) -> list[dict[str, str]]:
    text = (EXERCISE / relative).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def train() -> list[dict[str, str]]:
    return read("starter/data/train.csv")


def test_generator_rewrites_the_shipped_files_byte_for_byte(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(EXERCISE / "hidden" / "generate.py"), "--root", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(GENERATED)
    for relative in GENERATED:
        assert (tmp_path / relative).read_bytes() == (EXERCISE / relative).read_bytes(), (
            f"{relative} differs from a fresh run of generate.py: regenerate and commit"
        )


def test_sizes_and_disjoint_customers(train: list[dict[str, str]]) -> None:
    holdout_a, holdout_b = read("hidden/data/holdout_a.csv"), read("hidden/data/holdout_b.csv")
    assert (len(train), len(holdout_a), len(holdout_b)) == (20_000, 6_000, 4_000)
    ids = [row["customer_id"] for rows in (train, holdout_a, holdout_b) for row in rows]
    assert len(set(ids)) == len(ids), "a customer appears twice"


def test_churn_rate_is_between_15_and_25_percent(train: list[dict[str, str]]) -> None:
    rate = sum(row["churned"] == "1" for row in train) / len(train)
    assert 0.15 <= rate <= 0.25, f"training churn rate {rate:.3f}"
    for name in ("a", "b"):
        labels = read(f"hidden/data/holdout_{name}_labels.csv")
        holdout_rate = sum(row["churned"] == "1" for row in labels) / len(labels)
        assert 0.15 <= holdout_rate <= 0.30, f"holdout {name} churn rate {holdout_rate:.3f}"


def test_leaky_column_follows_the_label_in_train(train: list[dict[str, str]]) -> None:
    for row in train:
        assert (row[LEAKY] != "") == (row["churned"] == "1"), row["customer_id"]


@pytest.mark.parametrize("name", ["a", "b"])
def test_leaky_column_is_blank_in_holdouts(name: str) -> None:
    rows = read(f"hidden/data/holdout_{name}.csv")
    assert rows and LEAKY in rows[0], "the holdout keeps the column, as a real export would"
    assert all(row[LEAKY] == "" for row in rows), f"holdout {name} has closure dates"


@pytest.mark.parametrize("name", ["a", "b"])
def test_holdout_features_carry_no_label(name: str) -> None:
    header = (EXERCISE / f"hidden/data/holdout_{name}.csv").read_text().splitlines()[0]
    assert "churned" not in header.split(",")
    labels = read(f"hidden/data/holdout_{name}_labels.csv")
    assert list(labels[0]) == ["customer_id", "churned"]


def test_no_holdout_data_in_the_starter_kit(train: list[dict[str, str]]) -> None:
    starter = EXERCISE / "starter"
    files = [p for p in starter.rglob("*") if p.is_file()]
    assert not [p for p in files if "holdout" in p.name or "label" in p.name]
    assert [p.relative_to(starter).as_posix() for p in files if p.suffix == ".csv"] == [
        "data/train.csv"
    ]
    holdout_ids = {row["customer_id"] for row in read("hidden/data/holdout_a_labels.csv")}
    assert not holdout_ids & {row["customer_id"] for row in train}


def test_unseen_postal_areas_only_in_the_drifted_holdout(
    train: list[dict[str, str]],
) -> None:
    known = {row["postal_area"] for row in train}
    new_b = {row["postal_area"] for row in read("hidden/data/holdout_b.csv")} - known
    assert len(new_b) > 50, "holdout B should bring new postal areas (drift)"
    for column in ("region", "plan", "billing_cycle", "payment_method", "acquisition_channel"):
        seen = {row[column] for row in train}
        for name in ("a", "b"):
            levels = {row[column] for row in read(f"hidden/data/holdout_{name}.csv")}
            assert levels <= seen, f"holdout {name} has unseen {column} levels {levels - seen}"


def test_starter_conftest_only_loads_the_plugin() -> None:
    text = (EXERCISE / "starter" / "conftest.py").read_text()
    assert text.strip() == 'pytest_plugins = ("worksample.graders.plugin",)'


def test_brief_states_the_budgets_the_suite_checks() -> None:
    manifest = tomllib.loads((EXERCISE / "exercise.toml").read_text())
    budgets = manifest["budgets"]
    brief = (EXERCISE / "brief.md").read_text()
    assert f"**{budgets['train_wall_s']:g} s**" in brief
    assert budgets["train_memory_mb"] == 1024 and "**1 GB**" in brief
    assert manifest["sandbox"]["memory_mb"] > budgets["train_memory_mb"]
    assert manifest["grading"]["provided"] == ["data/train.csv"]
