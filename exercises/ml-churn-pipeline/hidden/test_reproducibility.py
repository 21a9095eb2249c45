"""Two trainings on the same data give the same model, prediction for prediction."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.category("reproducibility")

IDENTICAL = 1e-9


def test_two_trainings_give_identical_predictions(cli, churn_data, base_prediction):
    """A second training on the same data predicts the `base` rows exactly as the first did (within
    1e-9). A failure means some source of randomness (a split, a model's seed, cross-fitting folds)
    is not seeded, so results cannot be reproduced or audited.
    """
    first = base_prediction.require()
    second = cli.predict("base", churn_data.base, model="repeat").require()
    gap = np.abs(first - second)
    assert gap.max() <= IDENTICAL, (
        f"a second training changed {int(np.sum(gap > IDENTICAL))} of {len(gap)} predictions "
        f"(largest change {gap.max():.6f}): some randomness is not seeded"
    )
