"""Training within the wall-time and memory budget stated in brief.md (BUDGETS in conftest.py).

Measured on the suite's first training run, in the sandbox with the manifest's
[sandbox] limits (2 CPUs). Memory is the sandbox's peak during that command, as
the host's cgroup saw it.
"""

from __future__ import annotations

import warnings

import pytest

pytestmark = pytest.mark.category("budgets")


def test_training_time(training, budgets):
    """The suite's first `train` run, measured in the sandbox on 2 CPUs, finishes within the brief's
    wall-time budget (`train_wall_s`, 60 s). A failure means training costs more than the brief
    allows: ask whether the model's size or the search behind it pays for itself.
    """
    training.require()
    limit = budgets["train_wall_s"]
    assert training.run.wall_s <= limit, (
        f"training took {training.run.wall_s:.1f} s, the budget is {limit:.0f} s"
    )


def test_training_memory(training, budgets):
    """The sandbox's peak memory during the first `train` run stays within the brief's memory budget
    (`train_memory_mb`, 1024 MB); a backend that cannot measure memory passes it with a warning. A
    failure points to something in training that grows far faster than the data needs, such as an
    all-pairs matrix or needless copies of the table.
    """
    training.require()
    limit_mb = budgets["train_memory_mb"]
    peak = training.run.peak_memory_bytes
    if peak is None:
        warnings.warn("this backend cannot measure memory: budget not checked", stacklevel=1)
        return
    assert peak <= limit_mb * 2**20, (
        f"training peaked at {peak / 2**20:.0f} MB, the budget is {limit_mb:.0f} MB"
    )
