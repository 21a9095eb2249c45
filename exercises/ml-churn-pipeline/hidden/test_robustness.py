"""Inputs a real scoring job meets: every one must be scored, row for row.

All inputs are derived from `base`: the first rows of holdout A without any
missing value, whose own predictions are the yardstick (conftest.py builds
them). Where the change must not matter (extra columns, column order, one row
alone) the predictions must equal the yardstick; where it does matter (unseen
levels, missing values) they only have to be valid.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.category("robustness")

SAME = 1e-6  # "equal", for probabilities that went through a text file


def _same_as_base(base_prediction, prediction, what):
    expected = base_prediction.require()
    got = prediction.require()
    gap = np.abs(expected - got)
    assert gap.max() <= SAME, (
        f"{what} changed {int(np.sum(gap > SAME))} of {len(got)} predictions "
        f"(largest change {gap.max():.6f})"
    )


@pytest.mark.weight(2)
def test_unseen_categories(robustness):
    robustness("unseen_categories").require()


@pytest.mark.weight(2)
def test_missing_values_in_every_column(robustness):
    robustness("missing_values").require()


def test_extra_columns_are_ignored(robustness, base_prediction):
    _same_as_base(base_prediction, robustness("extra_columns"), "adding three unknown columns")


def test_column_order_does_not_matter(robustness, base_prediction):
    _same_as_base(base_prediction, robustness("shuffled_columns"), "shuffling the column order")


def test_single_row(robustness, base_prediction):
    got = robustness("single_row").require()
    expected = base_prediction.require()
    assert abs(got[0] - expected[0]) <= SAME, (
        f"one row alone scored {got[0]:.6f}, the same row in a batch {expected[0]:.6f}"
    )


def test_header_only_input(robustness, training):
    """Either a header-only output (exit 0) or a clean error: non-zero, no traceback."""
    training.require()
    prediction = robustness("header_only")
    run = prediction.run
    assert run is not None, prediction.problem
    assert not run.timed_out, "predict on a header-only file did not finish"
    if run.exit_code == 0:
        assert prediction.problem is None, f"exit 0 but the output is wrong: {prediction.problem}"
    else:
        assert not prediction.traceback, (
            f"header-only input ended in a traceback (exit {run.exit_code}), not a clean "
            "error: " + run.stderr.decode("utf-8", "replace")[-800:]
        )
        assert run.stderr.strip(), f"exit {run.exit_code} without any message on stderr"
