"""The self-reported, cross-validated estimate against the truth on holdout A.

Holdout A comes from the same period and population as train.csv, so an honest
out-of-sample estimate lands within sampling noise of what the suite measures
from the candidate's own predictions there. Tolerances are about four standard
errors of the holdout metric; an estimate computed on the training rows, or with
the label leaking into features, is off by far more.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_recall_curve,
    roc_auc_score,
)

pytestmark = pytest.mark.category("honest_evaluation")

TOLERANCE = {"roc_auc": 0.02, "pr_auc": 0.04, "brier": 0.008, "f1": 0.05}
# The recommended threshold must reach this share of the best F1 achievable
# on holdout A with the same predictions.
MIN_THRESHOLD_EFFICIENCY = 0.9


def _truth(holdout, churn_data):
    probabilities = holdout("a").require()
    return churn_data.holdouts["a"].labels, probabilities


def _compare(metric, reported, measured):
    gap = reported - measured
    optimistic = gap < 0 if metric == "brier" else gap > 0  # a lower Brier is better
    assert abs(gap) <= TOLERANCE[metric], (
        f"report.json says {metric} = {reported:.4f}, holdout A gives {measured:.4f} "
        f"({'optimistic' if optimistic else 'pessimistic'} by {abs(gap):.4f}; "
        f"tolerance {TOLERANCE[metric]})"
    )


@pytest.mark.weight(2)
def test_reported_auc_is_honest(evaluation, holdout, churn_data):
    report = evaluation.require()
    labels, probabilities = _truth(holdout, churn_data)
    _compare("roc_auc", report["roc_auc"], roc_auc_score(labels, probabilities))


def test_reported_pr_auc_is_honest(evaluation, holdout, churn_data):
    report = evaluation.require()
    labels, probabilities = _truth(holdout, churn_data)
    _compare("pr_auc", report["pr_auc"], average_precision_score(labels, probabilities))


@pytest.mark.weight(2)
def test_reported_brier_is_honest(evaluation, holdout, churn_data):
    report = evaluation.require()
    labels, probabilities = _truth(holdout, churn_data)
    _compare("brier", report["brier"], brier_score_loss(labels, probabilities))


def test_reported_f1_is_honest(evaluation, holdout, churn_data):
    report = evaluation.require()
    labels, probabilities = _truth(holdout, churn_data)
    measured = f1_score(labels, probabilities >= report["threshold"], zero_division=0.0)
    _compare("f1", report["f1"], measured)


def test_recommended_threshold_is_useful(evaluation, holdout, churn_data):
    report = evaluation.require()
    labels, probabilities = _truth(holdout, churn_data)
    achieved = f1_score(labels, probabilities >= report["threshold"], zero_division=0.0)
    precision, recall, _ = precision_recall_curve(labels, probabilities)
    with np.errstate(divide="ignore", invalid="ignore"):
        best = float(np.nanmax(2 * precision * recall / (precision + recall)))
    assert achieved >= MIN_THRESHOLD_EFFICIENCY * best, (
        f"at the recommended threshold {report['threshold']:.4f} holdout A F1 is "
        f"{achieved:.4f}; the best threshold for these predictions reaches {best:.4f}"
    )
