"""`validate`: an exercise proves itself by grading its own solutions.

The reference scores 100 (twice, with identical outcomes), the starter scores
at most `validate.starter_max_score`, and every faulty solution fails exactly
the tests it declares and passes the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from worksample.graders._exercise import Exercise
from worksample.graders._grade import grade
from worksample.graders._options import GradingOptions
from worksample.graders._report import Report


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str


def validate_exercise(
    exercise: Exercise,
    *,
    options: GradingOptions | None = None,
    on_finding: Callable[[Finding], None] = lambda _: None,
) -> list[Finding]:
    findings: list[Finding] = []

    def note(check: str, ok: bool, detail: str) -> None:
        finding = Finding(check, ok, detail)
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
    )

    for name, (folder, expected) in exercise.faulty().items():
        unknown = sorted(set(expected.fails) - ids)
        if unknown:
            note(f"faulty/{name}", False, f"expected.toml names unknown tests: {unknown}")
            continue
        report = grade(exercise, folder, options=options)
        if report.status != "graded":
            note(f"faulty/{name}", False, f"{report.status}: {report.reason}")
            continue
        actual = set(report.failed_ids())
        wanted = set(expected.fails)
        detail = f"fails {len(actual)} test(s) as declared, score {report.score}"
        if actual != wanted:
            missing = sorted(wanted - actual)
            extra = sorted(actual - wanted)
            detail = f"should fail but passes: {missing}; fails but should pass: {extra}"
        note(f"faulty/{name}", actual == wanted, detail)
    return findings


def _outcomes(report: Report) -> dict[str, str]:
    return {t.id: t.outcome for t in report.tests}


def _diff(a: dict[str, str], b: dict[str, str]) -> str:
    keys = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    return "; ".join(f"{k}: {a.get(k)} then {b.get(k)}" for k in keys)
