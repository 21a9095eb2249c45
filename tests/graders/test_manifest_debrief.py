"""The manifest's `categories.debrief`: every category brings its own interview prompts."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from worksample.graders import ExerciseError, list_exercise_dirs, load_exercise

HERE = Path(__file__).parent
MINI = HERE / "exercises" / "mini-add"
ROOT = HERE.parents[1]
ALL_EXERCISES = [*list_exercise_dirs(ROOT / "exercises"), *list_exercise_dirs(HERE / "exercises")]
ROBUSTNESS_PROMPTS = re.compile(r'(name = "robustness".*?)debrief = \[.*?\]\n', re.S)


def with_robustness_debrief(tmp_path: Path, debrief: str) -> Path:
    """A copy of mini-add whose robustness category has `debrief` ("" for none)."""
    copy = tmp_path / "mini-add"
    shutil.copytree(MINI, copy, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = copy / "exercise.toml"
    text, found = ROBUSTNESS_PROMPTS.subn(lambda m: m.group(1) + debrief, manifest.read_text())
    assert found == 1
    manifest.write_text(text)
    return copy


@pytest.mark.parametrize("path", ALL_EXERCISES, ids=lambda p: p.name)
def test_every_category_has_its_own_prompts(path: Path) -> None:
    categories = load_exercise(path).manifest.categories
    prompts = [p for c in categories for p in c.debrief]
    assert all(2 <= len(c.debrief) <= 4 for c in categories)
    assert len(prompts) == len(set(prompts)), "a prompt is repeated across categories"


@pytest.mark.parametrize(
    ("debrief", "problem"),
    [
        ("", "category 'robustness' has 0 debrief prompt(s); give 2 to 4 questions"),
        ('debrief = ["Why exit 2?"]\n', "category 'robustness' has 1 debrief prompt(s)"),
        ("debrief = [" + '"q", ' * 5 + "]\n", "category 'robustness' has 5 debrief prompt(s)"),
        ('debrief = ["Why exit 2?", "  "]\n', "category 'robustness': debrief prompt 2 is empty"),
    ],
)
def test_a_category_without_two_to_four_prompts_is_refused(
    tmp_path: Path, debrief: str, problem: str
) -> None:
    copy = with_robustness_debrief(tmp_path, debrief)
    with pytest.raises(ExerciseError) as caught:
        load_exercise(copy)
    message = str(caught.value)
    assert message.startswith(f"{copy / 'exercise.toml'}: categories.1.debrief: {problem}")
    assert "Value error" not in message


def test_prompts_are_kept_on_one_line_each(tmp_path: Path) -> None:
    copy = with_robustness_debrief(tmp_path, 'debrief = ["Why exit\\n   2?", "And stderr?"]\n')
    (category,) = [c for c in load_exercise(copy).manifest.categories if c.name == "robustness"]
    assert category.debrief == ["Why exit 2?", "And stderr?"]
