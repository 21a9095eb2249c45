"""The manifest's `[submission]` table: what every submission holds, checked at load."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from worksample.graders import ExerciseError, list_exercise_dirs, load_exercise

HERE = Path(__file__).parent
MINI = HERE / "exercises" / "mini-add"
ROOT = HERE.parents[1]
ALL_EXERCISES = [*list_exercise_dirs(ROOT / "exercises"), *list_exercise_dirs(HERE / "exercises")]


def with_submission(tmp_path: Path, table: str) -> Path:
    """A copy of mini-add whose `[submission]` table is `table` ("" for none)."""
    copy = tmp_path / "mini-add"
    shutil.copytree(MINI, copy, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = copy / "exercise.toml"
    text = manifest.read_text()
    start = text.index("[submission]")
    end = text.index("[[categories]]")
    manifest.write_text(text[:start] + table + text[end:])
    return copy


@pytest.mark.parametrize("path", ALL_EXERCISES, ids=lambda p: p.name)
def test_every_exercise_declares_what_a_submission_holds(path: Path) -> None:
    declared = tomllib.loads((path / "exercise.toml").read_text())
    assert declared.get("submission", {}).get("required"), f"{path}: no [submission] required"
    exercise = load_exercise(path)
    for rel in exercise.manifest.submission.required:
        assert (exercise.reference_dir / rel).is_file()
        assert (exercise.starter_dir / rel).is_file(), f"the starter lacks {rel}"


@pytest.mark.parametrize(
    ("required", "problem"),
    [
        ('["/solution.py"]', "'/solution.py' is absolute; give it relative"),
        ('["C:/solution.py"]', "'C:/solution.py' is absolute"),
        ('["../solution.py"]', "'../solution.py' has a '..' component"),
        ('["solution\\\\main.py"]', "has a backslash; separate folders with '/'"),
        ('["./solution.py"]', "'./solution.py' has an empty or '.' component"),
        ('["solution/"]', "'solution/' has an empty or '.' component (or ends with '/')"),
        ('["a//b.py"]', "'a//b.py' has an empty or '.' component"),
        ('["solution/__pycache__/x.pyc"]', "is a cache or metadata path, which intake always"),
        ("[]", "submission.required: List should have at least 1 item"),
    ],
)
def test_required_paths_must_be_relative_files(tmp_path: Path, required: str, problem: str) -> None:
    copy = with_submission(tmp_path, f"[submission]\nrequired = {required}\n\n")
    with pytest.raises(ExerciseError) as caught:
        load_exercise(copy)
    message = str(caught.value)
    assert f"{copy / 'exercise.toml'}: submission.required: " in message
    assert problem in message


def test_a_submission_table_without_paths_and_unknown_fields_are_errors(tmp_path: Path) -> None:
    copy = with_submission(tmp_path, "[submission]\nrequird = ['solution.py']\n\n")
    with pytest.raises(ExerciseError) as caught:
        load_exercise(copy)
    assert "submission.required: required field is missing" in str(caught.value)
    assert "submission.requird: unknown field" in str(caught.value)


def test_the_reference_must_hold_the_required_paths(tmp_path: Path) -> None:
    copy = with_submission(tmp_path, '[submission]\nrequired = ["solution.py", "cli.py"]\n\n')
    with pytest.raises(ExerciseError) as caught:
        load_exercise(copy)
    assert str(caught.value) == (
        f"{copy / 'exercise.toml'}: submission.required: reference/cli.py is missing"
    )


def test_without_a_submission_table_nothing_is_required(tmp_path: Path) -> None:
    exercise = load_exercise(with_submission(tmp_path, ""))
    assert exercise.manifest.submission.required == []
