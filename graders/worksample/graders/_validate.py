"""`validate`: an exercise proves itself by grading its own solutions.

The reference scores 100 (twice, with identical outcomes), the starter scores
at most `validate.starter_max_score`, and every faulty solution and weak
profile fails exactly the tests it declares, passes the rest and lands in its
band: a single defect below 90 (a cosmetic one at least 85), a weak profile
in its declared band, at most 60. There are at least `validate.weak_profiles`
weak profiles (2 unless the manifest says otherwise); every
knock-out (`[[critical]]`) names hidden tests and is triggered by at least one
known-bad solution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from worksample.graders._exercise import (
    COSMETIC_AT_LEAST,
    FAULTY_BELOW,
    Exercise,
    FaultyExpectation,
    WeakExpectation,
)
from worksample.graders._grade import grade
from worksample.graders._options import GradingOptions
from worksample.graders._report import Report


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    score: float | None = None  # the total of the solution the check graded, if it did
    knockouts: tuple[str, ...] = ()  # the ids of the knock-outs that grading triggered


def validate_exercise(
    exercise: Exercise,
    *,
    options: GradingOptions | None = None,
    on_finding: Callable[[Finding], None] = lambda _: None,
) -> list[Finding]:
    findings: list[Finding] = []

    def note(check: str, ok: bool, detail: str, graded: Report | None = None) -> None:
        finding = Finding(check, ok, detail)
        if graded is not None:
            knockouts = tuple(k.id for k in graded.knockouts)
            finding = Finding(check, ok, detail, graded.score, knockouts)
        findings.append(finding)
        on_finding(finding)

    first = grade(exercise, exercise.reference_dir, options=options)
    if first.status != "graded":
        note("reference scores 100", False, f"{first.status}: {first.reason}")
        return findings
    failed = first.failed_ids()
    note(
        "reference scores 100",
        first.score == 100.0,
        f"score {first.score}" + (f"; fails {', '.join(failed)}" if failed else ""),
        first,
    )
    ids = {t.id for t in first.tests}

    second = grade(exercise, exercise.reference_dir, options=options)
    same = _outcomes(first) == _outcomes(second)
    note(
        "reference is graded the same twice",
        same,
        "identical outcomes" if same else _diff(_outcomes(first), _outcomes(second)),
    )

    starter = grade(exercise, exercise.starter_dir, options=options)
    limit = exercise.manifest.validate_.starter_max_score
    note(
        "starter scores at most " + f"{limit:g}",
        starter.status == "graded" and (starter.score or 0) <= limit,
        f"{starter.status}, score {starter.score}"
        + (f": {starter.reason}" if starter.reason else ""),
        starter,
    )

    public = {t.id for t in first.tests if t.public}
    for critical in exercise.manifest.critical:
        wrong = [t for t in critical.tests if t not in ids or t in public]
        note(
            f"critical {critical.id} names hidden tests",
            not wrong,
            f"not hidden tests of the suite: {wrong}" if wrong else f"cap {critical.cap:g}",
        )
    triggered: dict[str, list[str]] = {c.id: [] for c in exercise.manifest.critical}
    solutions: list[tuple[str, Path, FaultyExpectation | WeakExpectation]] = [
        *((f"faulty/{n}", p, e) for n, (p, e) in exercise.faulty().items()),
        *((f"weak/{n}", p, e) for n, (p, e) in exercise.weak().items()),
    ]
    for label, folder, expected in solutions:
        unknown = sorted(set(expected.fails) - ids)
        if unknown:
            note(label, False, f"expected.toml names unknown tests: {unknown}")
            continue
        report = grade(exercise, folder, options=options)
        if report.status != "graded" or report.score is None:
            note(label, False, f"{report.status}: {report.reason}")
            continue
        for knockout in report.knockouts:
            triggered[knockout.id].append(label)
        actual = set(report.failed_ids())
        wanted = set(expected.fails)
        problems = []
        if actual != wanted:
            missing = sorted(wanted - actual)
            extra = sorted(actual - wanted)
            problems.append(f"should fail but passes: {missing}; fails but should pass: {extra}")
        low, high = _band(expected)
        if not low <= report.score <= high:
            problems.append(f"score {report.score:g} outside its band [{low:g}, {high:g}]")
        capped = "".join(f"; knock-out {k.id} (cap {k.cap:g})" for k in report.knockouts)
        detail = f"fails {len(actual)} test(s) as declared, score {report.score:g}{capped}"
        note(label, not problems, "; ".join(problems) + capped if problems else detail, report)
    weak, wanted_weak = len(exercise.weak()), exercise.manifest.validate_.weak_profiles
    if wanted_weak:
        check = f"at least {wanted_weak} weak-candidate profiles"
        note(check, weak >= wanted_weak, f"{weak} in weak/")
    for knockout_id, by in triggered.items():
        note(
            f"critical {knockout_id} is proven by a known-bad solution",
            bool(by),
            ", ".join(by) if by else "no faulty or weak solution triggers it",
        )
    return findings


_BELOW = 1e-4  # "below 90" as an inclusive band: scores are rounded to 4 decimals


def _band(expected: FaultyExpectation | WeakExpectation) -> tuple[float, float]:
    """The total a solution must land in: its declared band, else its kind's."""
    if expected.score is not None:
        return expected.score
    if isinstance(expected, FaultyExpectation) and expected.cosmetic:
        return (COSMETIC_AT_LEAST, 100.0)
    return (0.0, FAULTY_BELOW - _BELOW)


def _outcomes(report: Report) -> dict[str, str]:
    return {t.id: t.outcome for t in report.tests}


def _diff(a: dict[str, str], b: dict[str, str]) -> str:
    keys = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    return "; ".join(f"{k}: {a.get(k)} then {b.get(k)}" for k in keys)
