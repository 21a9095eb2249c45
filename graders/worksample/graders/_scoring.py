"""Scores: per category the weighted share of passed tests; the total by category
weights, capped by the manifest's knock-outs (`[[critical]]`) that the work failed.

Each test is also given the points it is worth (`_points.split_points`), so a
report explains every point: the points of the passed tests sum to the score,
those of the rest to 100 - score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from worksample.graders._exercise import Manifest
from worksample.graders._points import split_points
from worksample.graders._report import CategoryScore, Knockout, TestResult


@dataclass(frozen=True)
class Scoring:
    total: float
    """The score: the weighted total, capped by the knock-outs."""
    categories: list[CategoryScore]
    tests: list[TestResult]
    """The tests in their given order, each with its points."""
    uncapped: float
    knockouts: list[Knockout]


def knockouts(manifest: Manifest, tests: Sequence[TestResult]) -> list[Knockout]:
    """The manifest's `[[critical]]` items these results trigger, in its order."""
    found = []
    for critical in manifest.critical:
        failed = critical.knocked_out(tests)
        if failed:
            found.append(
                Knockout(id=critical.id, label=critical.label, cap=critical.cap, tests=failed)
            )
    return found


def score_categories(manifest: Manifest, tests: Sequence[TestResult]) -> Scoring:
    """The total (0-100), the per-category scores and the tests with their points.
    Categories without tests are left out of the total, and the remaining weights
    are normalised to 100. Only a passed test counts as passed: a skip (xfail
    included), a failure and an error in set-up all count as not passed."""
    present = [c for c in manifest.categories if any(t.category == c.name for t in tests)]
    total_weight = sum(c.weight for c in present)
    scores: list[CategoryScore] = []
    points: dict[int, float] = {}
    total = 0.0
    for category in present:
        mine = [i for i, t in enumerate(tests) if t.category == category.name]
        weight_all = sum(tests[i].weight for i in mine)
        weight_passed = sum(tests[i].weight for i in mine if tests[i].passed)
        score = 100.0 * weight_passed / weight_all
        share = 100.0 * category.weight / total_weight
        total += share * score / 100.0
        points.update(zip(mine, split_points(share, [tests[i].weight for i in mine]), strict=True))
        scores.append(
            CategoryScore(
                name=category.name,
                description=category.description,
                weight=round(share, 4),
                score=round(score, 4),
                passed=sum(1 for i in mine if tests[i].passed),
                total=len(mine),
                debrief=list(category.debrief),
            )
        )
    scored = [t.model_copy(update={"points": points.get(i, 0.0)}) for i, t in enumerate(tests)]
    uncapped = round(total, 4)
    triggered = knockouts(manifest, tests)
    capped = min([uncapped, *(k.cap for k in triggered)])
    return Scoring(capped, scores, scored, uncapped, triggered)
