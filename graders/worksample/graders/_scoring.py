"""Scores: per category the weighted share of passed tests; the total by category weights."""

from __future__ import annotations

from collections.abc import Sequence

from worksample.graders._exercise import Manifest
from worksample.graders._report import CategoryScore, TestResult


def score_categories(
    manifest: Manifest, tests: Sequence[TestResult]
) -> tuple[float, list[CategoryScore]]:
    """(total 0-100, per-category scores). Categories without tests are left out
    of the total, and the remaining weights are normalised to 100."""
    present = [c for c in manifest.categories if any(t.category == c.name for t in tests)]
    total_weight = sum(c.weight for c in present)
    scores: list[CategoryScore] = []
    total = 0.0
    for category in manifest.categories:
        mine = [t for t in tests if t.category == category.name]
        if not mine:
            continue
        weight_all = sum(t.weight for t in mine)
        weight_passed = sum(t.weight for t in mine if t.outcome == "passed")
        score = 100.0 * weight_passed / weight_all
        share = 100.0 * category.weight / total_weight
        total += share * score / 100.0
        scores.append(
            CategoryScore(
                name=category.name,
                description=category.description,
                weight=round(share, 4),
                score=round(score, 4),
                passed=sum(1 for t in mine if t.outcome == "passed"),
                total=len(mine),
            )
        )
    return round(total, 4), scores
