"""The manifest's `[rubric]`: criteria with four behavioural anchors, and guidance for reviewers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from worksample.graders import (
    Criterion,
    ExerciseError,
    Rubric,
    list_exercise_dirs,
    load_exercise,
)

HERE = Path(__file__).parent
MINI = HERE / "exercises" / "mini-add"
INVALID = HERE / "invalid_exercises"
ROOT = HERE.parents[1]
REAL_EXERCISES = list_exercise_dirs(ROOT / "exercises")
ALL_EXERCISES = [*REAL_EXERCISES, *list_exercise_dirs(HERE / "exercises")]


def criterion(cid: str = "evaluation", **overrides: Any) -> dict[str, Any]:
    """A valid `[[rubric.criteria]]` table as a dict; `overrides` replace keys, None drops one."""
    table: dict[str, Any] = {
        "id": cid,
        "name": cid.title(),
        "weight": 1,
        "looks_at": f"what {cid} looks at",
        "levels": [f"{cid} anchor {n}" for n in ("one", "two", "three", "four")],
    }
    table.update(overrides)
    return {k: v for k, v in table.items() if v is not None}


def rubric_toml(criteria: list[dict[str, Any]], guidance: str | None = "Use it.") -> str:
    """The `[rubric]` of a manifest, written out; JSON strings and numbers are valid TOML."""
    lines = ["[rubric]"]
    if guidance is not None:
        lines.append(f"guidance = {json.dumps(guidance)}")
    for table in criteria:
        lines.append("[[rubric.criteria]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def with_rubric(tmp_path: Path, rubric: str) -> Path:
    """A copy of mini-add whose `[rubric]` (the last thing in its manifest) is `rubric`."""
    copy = tmp_path / "mini-add"
    shutil.copytree(MINI, copy, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = copy / "exercise.toml"
    text = manifest.read_text()
    manifest.write_text(text[: text.index("[rubric]")] + rubric)
    return copy


def refusal(tmp_path: Path, rubric: str) -> str:
    copy = with_rubric(tmp_path, rubric)
    with pytest.raises(ExerciseError) as caught:
        load_exercise(copy)
    message = str(caught.value)
    assert "Value error" not in message
    prefix = f"{copy / 'exercise.toml'}: "
    assert message.startswith(prefix)
    return message.removeprefix(prefix)


def two(**overrides: Any) -> list[dict[str, Any]]:
    """Two valid criteria, the second with `overrides`."""
    return [criterion("evaluation"), criterion("clarity", **overrides)]


@pytest.mark.parametrize("path", ALL_EXERCISES, ids=lambda p: p.name)
def test_every_exercise_loads_with_a_rubric_whose_anchors_are_its_own(path: Path) -> None:
    rubric = load_exercise(path).manifest.rubric
    anchors = [a for c in rubric.criteria for a in c.levels]
    assert len(anchors) == len(set(anchors)), "an anchor is repeated across criteria"
    assert rubric.guidance


@pytest.mark.parametrize("path", REAL_EXERCISES, ids=lambda p: p.name)
def test_real_exercises_give_reviewers_four_or_five_criteria_and_a_clarity_one(
    path: Path,
) -> None:
    rubric = load_exercise(path).manifest.rubric
    assert 4 <= len(rubric.criteria) <= 5
    assert any("clarity" in c.id for c in rubric.criteria)


def test_a_manifest_without_a_rubric_is_refused() -> None:
    with pytest.raises(ExerciseError) as caught:
        load_exercise(INVALID / "no-rubric")
    assert str(caught.value) == (
        f"{(INVALID / 'no-rubric' / 'exercise.toml').resolve()}: rubric: the manifest has no "
        "[rubric]; give reviewers one: `guidance` and 2 to 8 [[rubric.criteria]] with four "
        "level anchors each (see docs/authoring.md)"
    )


@pytest.mark.parametrize(
    ("folder", "problem"),
    [
        ("rubric-three-levels", "rubric.criteria.1.levels: criterion 'clarity' has 3 level(s)"),
        ("rubric-level-keys", "rubric.criteria.0.level_1: unknown field"),
    ],
)
def test_invalid_rubric_fixtures_name_the_criterion_and_the_problem(
    folder: str, problem: str
) -> None:
    with pytest.raises(ExerciseError) as caught:
        load_exercise(INVALID / folder)
    assert problem in str(caught.value)


@pytest.mark.parametrize("folder", sorted(p.name for p in INVALID.iterdir() if p.is_dir()))
def test_each_invalid_fixture_fails_for_one_reason_only(folder: str) -> None:
    """A required rubric must not make the other fixtures fail for a reason they do not show."""
    with pytest.raises(ExerciseError) as caught:
        load_exercise(INVALID / folder)
    lines = str(caught.value).splitlines()
    if folder == "rubric-level-keys":  # four unknown keys, and so no `levels`
        assert len(lines) == 5
    else:
        assert len(lines) == 1, lines
    assert ("rubric" in lines[0]) == ("rubric" in folder)


@pytest.mark.parametrize(
    ("rubric", "problem"),
    [
        (rubric_toml([], guidance=None), "rubric.guidance: required field is missing"),
        (
            rubric_toml(two(), guidance=" \n\n "),
            "rubric.guidance: guidance is empty; tell reviewers how to use the rubric",
        ),
        (
            rubric_toml([]),
            "rubric.criteria: the rubric has 0 criteria; give 2 to 8 [[rubric.criteria]]",
        ),
        (rubric_toml([criterion()]), "rubric.criteria: the rubric has 1 criteria"),
        (
            rubric_toml([criterion(f"c{n}") for n in range(9)]),
            "rubric.criteria: the rubric has 9 criteria",
        ),
        (
            rubric_toml([criterion("clarity"), criterion("clarity", name="Other")]),
            "rubric.criteria: duplicate criterion id(s) 'clarity'",
        ),
        (
            rubric_toml([criterion("clarity"), criterion("design", name="Clarity")]),
            "rubric.criteria: duplicate criterion name(s) 'Clarity'",
        ),
        (
            rubric_toml(two(id="Design Clarity")),
            "rubric.criteria.1.id: criterion id 'Design Clarity' must be lowercase letters",
        ),
        (rubric_toml(two(weight=0)), "rubric.criteria.1.weight: Input should be greater than 0"),
        (rubric_toml(two(weight=-2)), "rubric.criteria.1.weight: Input should be greater than 0"),
        (
            rubric_toml(two()).replace("weight = 1\nlooks_at", "weight = inf\nlooks_at", 1),
            "rubric.criteria.0.weight: Input should be a finite number",
        ),
        (rubric_toml(two(name="  ")), "rubric.criteria.1.name: criterion 'clarity': name is"),
        (rubric_toml(two(looks_at=None)), "rubric.criteria.1.looks_at: required field is missing"),
        (
            rubric_toml(two(looks_at="\n")),
            "rubric.criteria.1.looks_at: criterion 'clarity': looks_at is empty",
        ),
        (rubric_toml(two(levels=None)), "rubric.criteria.1.levels: required field is missing"),
        (
            rubric_toml(two(levels=["a", "b", "c", "d", "e"])),
            "rubric.criteria.1.levels: criterion 'clarity' has 5 level(s); give exactly 4 "
            "behavioural anchors, weakest first",
        ),
        (
            rubric_toml(two(levels=["a", "  ", "c", "d"])),
            "rubric.criteria.1.levels: criterion 'clarity': level 2 is empty",
        ),
        (
            rubric_toml(two(levels=["a", "b", "c", "b"])),
            "rubric.criteria.1.levels: criterion 'clarity': levels 2 and 4 are the same anchor",
        ),
        (
            rubric_toml(two(levels=["1: no tests", "2: some", "3: most", "4: all"])),
            "rubric.criteria.1.levels: criterion 'clarity': level 1 starts with the label '1:'; "
            "the position in the list is the level",
        ),
        (
            rubric_toml(two(levels=["a", "b", "Level 3 - c", "d"])),
            "rubric.criteria.1.levels: criterion 'clarity': level 3 starts with the label",
        ),
        (rubric_toml(two(levels=["a", "b", "c", 4])), "rubric.criteria.1.levels.3: Input should"),
        (rubric_toml(two(level_1="a")), "rubric.criteria.1.level_1: unknown field"),
        (
            rubric_toml(two()).replace(
                "[[rubric.criteria]]", "total = 100\n[[rubric.criteria]]", 1
            ),
            "rubric.total: unknown field",
        ),
    ],
)
def test_a_malformed_rubric_is_refused_with_the_field_and_the_fix(
    tmp_path: Path, rubric: str, problem: str
) -> None:
    assert refusal(tmp_path, rubric).startswith(problem)


def test_anchors_read_as_one_line_and_guidance_keeps_its_paragraphs(tmp_path: Path) -> None:
    text = rubric_toml(
        two(levels=["Only\n   train rows.", "b", "c", "d"], looks_at="evaluate\nand DESIGN.md"),
        guidance="Read the report\nfirst.\n\n  Do not reward length.  ",
    )
    rubric = load_exercise(with_rubric(tmp_path, text)).manifest.rubric
    clarity = rubric.criterion("clarity")
    assert clarity is not None
    assert clarity.levels == ("Only train rows.", "b", "c", "d")
    assert clarity.looks_at == "evaluate and DESIGN.md"
    assert rubric.guidance == "Read the report first.\n\nDo not reward length."
    assert rubric.criterion("absent") is None


def test_anchors_may_mention_levels_after_their_start(tmp_path: Path) -> None:
    levels = ["1 of the 3 commands works", "b", "c", "As level 3, and more"]
    rubric = load_exercise(with_rubric(tmp_path, rubric_toml(two(levels=levels)))).manifest.rubric
    assert rubric.criteria[1].levels == tuple(levels)


def make_rubric(*weights: float) -> Rubric:
    return Rubric(
        guidance="g",
        criteria=[Criterion(**criterion(f"c{i}", weight=w)) for i, w in enumerate(weights)],
    )


@pytest.mark.parametrize(
    ("weights", "levels", "total"),
    [
        ((1, 1), {"c0": 1, "c1": 1}, 0.0),
        ((1, 1), {"c0": 4, "c1": 4}, 100.0),
        ((1, 1), {"c0": 2, "c1": 3}, 50.0),
        ((3, 1), {"c0": 4, "c1": 1}, 75.0),
        ((1, 2), {"c0": 2, "c1": 4}, 77.7778),  # (33.33 + 2 * 100) / 3
        ((0.5, 0.5, 1), {"c0": 1, "c1": 3, "c2": 2}, 33.3333),
    ],
)
def test_the_total_is_the_weighted_mean_of_levels_on_0_to_100(
    weights: tuple[float, ...], levels: dict[str, int], total: float
) -> None:
    assert make_rubric(*weights).total(levels) == total


@pytest.mark.parametrize(
    ("levels", "problem"),
    [
        ({"c0": 2}, "no level for c1"),
        ({"c0": 2, "c1": 3, "c9": 1}, "no criterion c9 in the rubric"),
        ({"c0": 0, "c1": 3}, "rubric level of c0 is 0; give 1, 2, 3 or 4"),
        ({"c0": 5, "c1": 3}, "rubric level of c0 is 5"),
        ({"c0": 2.5, "c1": 3}, "rubric level of c0 is 2.5"),
        ({"c0": True, "c1": 3}, "rubric level of c0 is True"),
    ],
)
def test_the_total_needs_a_level_from_1_to_4_for_every_criterion(
    levels: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match="^" + problem):
        make_rubric(1, 1).total(levels)
