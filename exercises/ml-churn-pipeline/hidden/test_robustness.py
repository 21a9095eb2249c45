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
    """Rows with category levels never seen in training (one column per row, every tenth row in all
    six categorical columns) each still get a valid probability. A failure means the pipeline
    crashes or drops rows as soon as a new plan, region or postal area appears, which real exports
    bring every month.
    """
    robustness("unseen_categories").require()


@pytest.mark.weight(2)
def test_missing_values_in_every_column(robustness):
    """Rows with blanks in every feature column (two per row, and every 25th row blank except its
    id) each still get a valid probability. A failure means missing values, which every export has,
    crash the scoring job or lose rows.
    """
    robustness("missing_values").require()


def test_extra_columns_are_ignored(robustness, base_prediction):
    """Three unknown columns added to the input (first, middle and last, one of them text with
    commas) leave every prediction unchanged. A failure means columns are read by position or passed
    blindly to the model, so a changed export silently changes the scores.
    """
    _same_as_base(base_prediction, robustness("extra_columns"), "adding three unknown columns")


def test_column_order_does_not_matter(robustness, base_prediction):
    """Shuffling the input's column order leaves every prediction unchanged. A failure means
    features are matched by position instead of by name, which silently corrupts scores when an
    export changes its layout.
    """
    _same_as_base(base_prediction, robustness("shuffled_columns"), "shuffling the column order")


def test_single_row(robustness, base_prediction):
    """A file holding one row scores it exactly as the same row is scored in a batch. A failure
    means predictions depend on the rest of the file (statistics computed at prediction time), so a
    customer's score changes with who else is in the export.
    """
    got = robustness("single_row").require()
    expected = base_prediction.require()
    assert abs(got[0] - expected[0]) <= SAME, (
        f"one row alone scored {got[0]:.6f}, the same row in a batch {expected[0]:.6f}"
    )


def test_header_only_input(robustness, training):
    """A header-only input ends in either a header-only output with exit 0 or a clean error
    (non-zero exit, a message on stderr, no traceback). A failure means an empty daily export
    crashes the job or writes a malformed file.
    """
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
