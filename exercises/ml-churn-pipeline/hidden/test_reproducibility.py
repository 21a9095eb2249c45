"""Two trainings on the same data give the same model, prediction for prediction."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.category("reproducibility")

IDENTICAL = 1e-9


def test_two_trainings_give_identical_predictions(cli, churn_data, base_prediction):
    first = base_prediction.require()
    second = cli.predict("base", churn_data.base, model="repeat").require()
    gap = np.abs(first - second)
    assert gap.max() <= IDENTICAL, (
        f"a second training changed {int(np.sum(gap > IDENTICAL))} of {len(gap)} predictions "
        f"(largest change {gap.max():.6f}): some randomness is not seeded"
    )
