"""Every real exercise proves itself with real Docker grading: the reference
scores 100 twice with identical outcomes, the starter stays under its cap, and
each faulty solution fails exactly the tests it declares."""

from __future__ import annotations

from pathlib import Path

import pytest
from worksample.graders import list_exercise_dirs, load_exercise, validate_exercise

EXERCISES = Path(__file__).resolve().parents[2] / "exercises"

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_both_tracks_have_real_exercises() -> None:
    tracks = {load_exercise(p).manifest.track for p in list_exercise_dirs(EXERCISES)}
    assert tracks == {"ml", "ai"}


# Every solution of an exercise is a real grading: ml-churn-pipeline's 14 take
# about 10 minutes on 2 idle cores, more under load, past the suite's 600 s.
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("path", list_exercise_dirs(EXERCISES), ids=lambda p: p.name)
def test_exercise_validates(path: Path) -> None:
    findings = validate_exercise(load_exercise(path))
    failed = [f"{f.check}: {f.detail}" for f in findings if not f.ok]
    assert not failed, "\n".join(failed)
    assert len(findings) >= 3
