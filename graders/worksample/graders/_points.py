"""What a test is worth, out of 100: the one rule the score and the report's points share.

A category's score is the weighted share of its tests that passed, and the
total is the sum of category scores by the category's share of 100, so a test
is worth its category's share split by test weight. Kept on plain numbers so
the scoring and the loading of older reports (which carry no points) use it
alike.
"""

from __future__ import annotations

from collections.abc import Sequence


def split_points(category_share: float, weights: Sequence[float]) -> list[float]:
    """The points each test of one category is worth, in the order of `weights`."""
    total = sum(weights)
    return [round(category_share * weight / total, 4) for weight in weights]
