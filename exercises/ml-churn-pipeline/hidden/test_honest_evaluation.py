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
    """The ROC-AUC in report.json is within 0.02 of the ROC-AUC the suite measures on holdout A
    (unseen customers of the same period) from the candidate's own predictions. A failure means the
    estimate is not out-of-sample: computed on training rows or inflated by the leaky closure date;
    the message says whether it was optimistic or pessimistic.
    """
    report = evaluation.require()
    labels, probabilities = _truth(holdout, churn_data)
    _compare("roc_auc", report["roc_auc"], roc_auc_score(labels, probabilities))


def test_reported_pr_auc_is_honest(evaluation, holdout, churn_data):
    """The PR-AUC (average precision) in report.json is within 0.04 of what holdout A gives for the
    candidate's predictions. Precision on the rare churners is what the retention team acts on, and
    an estimate off by more than sampling noise points to training-set or leaky evaluation.
    """
    report = evaluation.require()
    labels, probabilities = _truth(holdout, churn_data)
    _compare("pr_auc", report["pr_auc"], average_precision_score(labels, probabilities))


@pytest.mark.weight(2)
def test_reported_brier_is_honest(evaluation, holdout, churn_data):
    """The Brier score in report.json is within 0.008 of the one measured on holdout A. A failure
    means the candidate's claim about how well calibrated their probabilities are does not hold on
    unseen customers.
    """
    report = evaluation.require()
    labels, probabilities = _truth(holdout, churn_data)
    _compare("brier", report["brier"], brier_score_loss(labels, probabilities))


def test_reported_f1_is_honest(evaluation, holdout, churn_data):
    """The F1 report.json expects at its recommended threshold is within 0.05 of the F1 holdout A
    gives at that same threshold. A failure means the promise made for the operating point, the one
    the team would act on, does not hold out of sample.
    """
    report = evaluation.require()
    labels, probabilities = _truth(holdout, churn_data)
    measured = f1_score(labels, probabilities >= report["threshold"], zero_division=0.0)
    _compare("f1", report["f1"], measured)


def test_recommended_threshold_is_useful(evaluation, holdout, churn_data):
    """At the recommended threshold, holdout A's F1 reaches at least 90 % of the best F1 any
    threshold gives for the same predictions. A failure means the threshold was chosen badly (a
    default 0.5 on imbalanced data, or one tuned on optimistic scores), even if the model ranks
    customers well.
    """
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
