"""Knock-outs (`[[critical]]`) and calibration bands (`expected.toml` of faulty
and weak solutions): what the manifest accepts, what `validate` holds work to."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from worksample.graders import (
    ExerciseError,
    GradingOptions,
    list_exercise_dirs,
    load_exercise,
    validate_exercise,
)
from worksample.sandboxes import SandboxOptions

HERE = Path(__file__).parent
MINI = HERE / "exercises" / "mini-add"
REAL_EXERCISES = list_exercise_dirs(HERE.parents[1] / "exercises")
LOCAL = GradingOptions(sandbox=SandboxOptions(backend="local"))
NEGATIVE = "hidden/test_hidden.py::test_add_negative"


def copy_of_mini(tmp_path: Path) -> Path:
    copy = tmp_path / "mini-add"
    shutil.copytree(MINI, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def with_critical(tmp_path: Path, *tables: dict[str, Any]) -> Path:
    """mini-add with its `[[critical]]` tables replaced by `tables`."""
    copy = copy_of_mini(tmp_path)
    manifest = copy / "exercise.toml"
    text = manifest.read_text()
    start, end = text.index("[[critical]]"), text.index("[rubric]")
    written = "".join(
        "[[critical]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in t.items()) + "\n"
        for t in tables
    )
    manifest.write_text(text[:start] + written + text[end:])
    return copy


def critical(**overrides: Any) -> dict[str, Any]:
    table: dict[str, Any] = {"id": "wrong", "label": "adds wrongly", "cap": 40, "tests": [NEGATIVE]}
    table.update(overrides)
    return {k: v for k, v in table.items() if v is not None}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (critical(category="correctness"), "either `tests`"),
        (critical(tests=None), "either `tests`"),
        (critical(tests=None, category="style"), "category 'style' is not one of"),
        (critical(cap=100), "cap: Input should be less than 100"),
        (critical(cap=-1), "cap: Input should be greater than or equal to 0"),
        (critical(label="  "), "label is empty"),
        (critical(id="Wrong Id"), "critical.0.id"),
        (critical(tests=[NEGATIVE, NEGATIVE]), "listed twice"),
    ],
)
def test_a_malformed_knockout_is_a_manifest_error(
    tmp_path: Path, table: dict[str, Any], message: str
) -> None:
    with pytest.raises(ExerciseError, match=r"exercise\.toml") as caught:
        load_exercise(with_critical(tmp_path, table))
    assert message in str(caught.value)


def test_two_knockouts_with_one_id_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ExerciseError, match="duplicate id"):
        load_exercise(with_critical(tmp_path, critical(), critical(label="again")))


@pytest.mark.parametrize(
    ("folder", "expected", "message"),
    [
        ("weak/careless", {"score": [30, 70]}, "band ends at 60 or below"),
        ("weak/careless", {"score": [50, 40]}, "must be [lowest, highest]"),
        ("weak/careless", {"flaws": ["only one"]}, "at least 2 items"),
        ("faulty/no-cli", {"score": [50, 95]}, "a real defect's band ends below 90"),
        ("faulty/no-cli", {"cosmetic": True, "score": [50, 95]}, "starts at 85 or above"),
    ],
)
def test_a_band_that_breaks_the_targets_is_refused(
    tmp_path: Path, folder: str, expected: dict[str, Any], message: str
) -> None:
    copy = copy_of_mini(tmp_path)
    path = copy / folder / "expected.toml"
    text = "".join(
        line for line in path.read_text().splitlines(keepends=True) if not line.startswith("score")
    )
    if "flaws" in expected:
        start = text.index("flaws")
        text = text[:start] + text[text.index("]", start) + 1 :]
    path.write_text(text + "".join(f"{k} = {json.dumps(v)}\n" for k, v in expected.items()))
    with pytest.raises(ExerciseError, match=r"expected\.toml") as caught:
        exercise = load_exercise(copy)
        exercise.faulty()
        exercise.weak()
    assert message in str(caught.value)


def test_validate_holds_solutions_to_their_bands_and_knockouts_to_proof(tmp_path: Path) -> None:
    """Locally graded: a weak profile out of its band, a single defect at 90 or
    more, a knock-out on a public test and one no known-bad solution triggers."""
    copy = with_critical(
        tmp_path,
        critical(id="public_only", label="fails the public test",
                 tests=["starter/tests/test_public.py::test_add_small_numbers"]),
        critical(id="never", label="crashes on a missing file", cap=80,
                 tests=["hidden/test_hidden.py::test_sum_of_missing_file_fails_cleanly"]),
    )  # fmt: skip
    band = copy / "weak" / "careless" / "expected.toml"
    band.write_text(band.read_text().replace("score = [30, 40]", "score = [50, 60]"))
    shutil.rmtree(copy / "weak" / "half-done")
    findings = {f.check: f for f in validate_exercise(load_exercise(copy), options=LOCAL)}
    assert not findings["critical public_only names hidden tests"].ok
    assert findings["critical never names hidden tests"].ok
    careless = findings["weak/careless"]
    # The missing-file knock-out (cap 80) does not reach 62.5 - 25 = 37.5: outside [50, 60].
    assert not careless.ok and "score 37.5 outside its band [50, 60]" in careless.detail
    assert findings["faulty/off-by-one"].ok  # 62.5, no knock-out left on it: below 90
    assert not findings["at least 2 weak-candidate profiles"].ok
    assert findings["critical never is proven by a known-bad solution"].ok  # no-cli, careless
    assert not findings["critical public_only is proven by a known-bad solution"].ok


@pytest.mark.parametrize("path", REAL_EXERCISES, ids=lambda p: p.name)
def test_every_real_exercise_has_knockouts_and_weak_profiles(path: Path) -> None:
    exercise = load_exercise(path)
    assert len(exercise.manifest.critical) >= 2, "name the exercise's disqualifying failures"
    assert exercise.manifest.validate_.weak_profiles >= 2
    assert len(exercise.weak()) >= 2
    assert any(e.cosmetic for _, e in exercise.faulty().values()), "a cosmetic-flaw solution"
