"""The grader on a small exercise under tests/: reports, validate, the CLI, candidate mode."""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from worksample.graders import (
    ExerciseError,
    GradingOptions,
    Report,
    build_starter_kit,
    grade,
    load_exercise,
    validate_exercise,
)
from worksample.sandboxes import SandboxOptions

HERE = Path(__file__).parent
MINI = HERE / "exercises" / "mini-add"
INVALID = HERE / "invalid_exercises"
WORKSAMPLE = str(Path(sys.executable).with_name("worksample"))
EXERCISE = load_exercise(MINI)
LOCAL = GradingOptions(sandbox=SandboxOptions(backend="local"))

pytestmark = pytest.mark.docker


def docstrings(path: Path) -> dict[str, str]:
    """The test functions' docstrings of a suite's file, as an author wrote them."""
    tree = ast.parse(path.read_text())
    return {
        node.name: ast.get_docstring(node) or ""
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


@pytest.fixture(scope="module")
def off_by_one() -> Report:
    """One real grading of faulty/off-by-one, shared by the tests that read it."""
    return grade(EXERCISE, MINI / "faulty" / "off-by-one")


def test_reference_report_carries_everything_a_reviewer_needs() -> None:
    report = grade(EXERCISE, MINI / "reference")
    assert report.status == "graded" and report.score == 100.0
    assert report.schema_version == 3
    assert report.exercise.id == "mini-add" and len(report.exercise.content_hash) == 64
    assert report.image is not None and report.image.tag.startswith("worksample/sandbox-ml:")
    assert report.image.id.startswith("sha256:")
    # Built here, never pushed: the engine's image id is the digest, and the report says so.
    assert report.image.digest == report.image.id and report.image.digest_source == "image-id"
    assert report.llm_image is None  # the ML track has no mock LLM
    assert report.sandboxed and report.limits.memory_mb == 256
    assert report.limits.call_timeout_s == 10
    assert {c.name: c.weight for c in report.categories} == {"correctness": 75, "robustness": 25}
    debrief = {c.name: c.debrief for c in report.categories}
    assert debrief == {c.name: c.debrief for c in EXERCISE.manifest.categories}
    assert all(len(prompts) >= 2 for prompts in debrief.values())
    by_id = {t.id: t for t in report.tests}
    negative = by_id["hidden/test_hidden.py::test_add_negative"]
    assert negative.weight == 2 and not negative.public and negative.outcome == "passed"
    assert negative.calls and negative.calls[0].argv == ["solution:add"]
    assert negative.calls[0].timeout_s == 10  # no timeout of its own: the manifest's
    public = by_id["starter/tests/test_public.py::test_add_small_numbers"]
    assert public.public
    # The session fixture's command is recorded against the test that set it up.
    summed = by_id["hidden/test_hidden.py::test_sum_command"].calls
    assert summed[0].argv == ["python3", "solution.py", "sum", "data/numbers.txt"]
    assert summed[0].stdout.strip() == "10"
    assert report.resources.calls == 4 and report.resources.peak_memory_bytes
    assert report.timings.total_s >= report.timings.suite_s > report.timings.sandbox_start_s > 0
    assert report.timings.llm_start_s == 0
    assert report.losses == [] and sum(t.points for t in report.tests) == pytest.approx(100)


def test_scores_are_weighted_shares_of_passed_tests(off_by_one: Report) -> None:
    report = off_by_one
    cats = {c.name: c for c in report.categories}
    assert cats["correctness"].score == 50.0  # weight 2 of 4 failed
    assert cats["robustness"].score == 100.0
    assert report.uncapped_score == 62.5
    failed = report.test("hidden/test_hidden.py::test_add_negative")
    assert failed.outcome == "failed" and "add(-5, 3) returned -1" in failed.message


def test_a_failed_critical_test_caps_the_total_and_is_named(off_by_one: Report) -> None:
    """mini-add's `[[critical]]` negative_sums: wrong sums for negatives cap the total at 40."""
    report = off_by_one
    assert report.score == 40.0 and report.uncapped_score == 62.5 and report.capped_by == 22.5
    (knockout,) = report.knockouts
    assert (knockout.id, knockout.cap, knockout.tests) == (
        "negative_sums",
        40.0,
        ["hidden/test_hidden.py::test_add_negative"],
    )
    assert knockout.label == "adds wrongly when a number is negative"
    again = Report.model_validate_json(report.model_dump_json())
    assert again.knockouts == report.knockouts and again.capped_by == 22.5


def test_a_critical_category_knocks_out_on_any_of_its_tests(tmp_path: Path) -> None:
    copy = tmp_path / "mini-add"
    shutil.copytree(MINI, copy)
    manifest = copy / "exercise.toml"
    manifest.write_text(
        manifest.read_text().replace(
            'tests = ["hidden/test_hidden.py::test_add_negative"]', 'category = "robustness"'
        )
    )
    exercise = load_exercise(copy)
    assert grade(exercise, copy / "faulty" / "off-by-one", options=LOCAL).knockouts == []
    no_cli = grade(exercise, copy / "faulty" / "no-cli", options=LOCAL)
    assert [k.tests for k in no_cli.knockouts] == [
        ["hidden/test_hidden.py::test_sum_of_missing_file_fails_cleanly"]
    ]
    assert no_cli.uncapped_score == 56.25 and no_cli.score == 40.0
    practice = grade(exercise, copy / "faulty" / "no-cli", options=GradingOptions(public_only=True))
    assert practice.knockouts == [] and practice.score == 100.0  # hidden tests never ran


def test_points_lost_explain_every_point_of_the_score(off_by_one: Report) -> None:
    report = off_by_one
    assert report.score is not None
    assert sum(t.points for t in report.tests) == pytest.approx(100, abs=1e-3)
    assert report.uncapped_score is not None
    earned = sum(t.points_earned for t in report.tests)
    assert earned == pytest.approx(report.uncapped_score, abs=1e-3)
    lost = sum(t.points_lost for t in report.losses) + report.capped_by
    assert lost == pytest.approx(100 - report.score, abs=1e-3)
    (lost,) = report.losses
    # correctness is worth 75, over weights 2 (this test), 1, and 1 (the public test).
    assert lost.id == "hidden/test_hidden.py::test_add_negative" and lost.points_lost == 37.5
    assert report.test("hidden/test_hidden.py::test_sum_command").points_earned == 18.75


def test_each_test_is_described_by_its_docstring(off_by_one: Report) -> None:
    written = {
        **docstrings(MINI / "hidden" / "test_hidden.py"),
        **docstrings(MINI / "starter" / "tests" / "test_public.py"),
    }
    described = {t.name: t.description for t in off_by_one.tests}
    assert described == written and all(described.values())
    negative = off_by_one.test("hidden/test_hidden.py::test_add_negative")
    assert negative.summary == "`add(-5, 3)` called in the sandbox returns -2."


def test_public_only_runs_only_the_public_tests() -> None:
    report = grade(EXERCISE, MINI / "reference", options=GradingOptions(public_only=True))
    assert [t.id for t in report.tests] == ["starter/tests/test_public.py::test_add_small_numbers"]
    assert report.public_only and report.score == 100.0
    # A practice run's points are its own: the public tests are worth the whole 100.
    assert report.tests[0].points == 100.0 and report.losses == []


def test_local_backend_grades_and_says_it_is_not_sandboxed() -> None:
    report = grade(EXERCISE, MINI / "reference", options=LOCAL)
    assert report.status == "graded" and report.score == 100.0
    assert not report.sandboxed and report.image is None


def test_validate_passes_on_a_sound_exercise() -> None:
    findings = validate_exercise(EXERCISE)
    assert [f.check for f in findings] == [
        "reference scores 100",
        "reference is graded the same twice",
        "starter scores at most 20",
        "critical negative_sums names hidden tests",
        "faulty/no-cli",
        "faulty/off-by-one",
        "weak/careless",
        "weak/half-done",
        "at least 2 weak-candidate profiles",
        "critical negative_sums is proven by a known-bad solution",
    ]
    assert all(f.ok for f in findings), findings


def test_validate_catches_a_faulty_solution_that_fails_the_wrong_tests(tmp_path: Path) -> None:
    copy = tmp_path / "mini-add"
    shutil.copytree(MINI, copy)
    (copy / "faulty" / "off-by-one" / "expected.toml").write_text(
        'description = "wrong claim"\nfails = ["hidden/test_hidden.py::test_sum_command"]\n'
    )
    findings = {f.check: f for f in validate_exercise(load_exercise(copy))}
    bad = findings["faulty/off-by-one"]
    assert not bad.ok
    assert "should fail but passes: ['hidden/test_hidden.py::test_sum_command']" in bad.detail
    assert "fails but should pass: ['hidden/test_hidden.py::test_add_negative']" in bad.detail


def test_a_hidden_test_without_category_is_an_error(tmp_path: Path) -> None:
    copy = tmp_path / "mini-add"
    shutil.copytree(MINI, copy)
    (copy / "hidden" / "test_extra.py").write_text("def test_untagged(candidate):\n    pass\n")
    report = grade(load_exercise(copy), MINI / "reference")
    assert report.status == "error"
    assert "hidden/test_extra.py::test_untagged: needs exactly one" in report.reason


def test_a_hidden_test_without_a_docstring_fails_validation(tmp_path: Path) -> None:
    copy = tmp_path / "mini-add"
    shutil.copytree(MINI, copy)
    (copy / "hidden" / "test_extra.py").write_text(
        "import pytest\n\n\n@pytest.mark.category('robustness')\n"
        "def test_undocumented(candidate):\n    pass\n"
    )
    out = run_cli("exercises", "validate", str(copy))
    assert out.returncode != 0
    assert (
        "hidden/test_extra.py::test_undocumented: needs a docstring saying what the test "
        "checks and what a failure tells a reviewer"
    ) in out.stdout
    assert "reference scores 100" in out.stdout


def test_rejected_reports_carry_the_limits_and_budgets_too(tmp_path: Path) -> None:
    copy = tmp_path / "mini-add"
    shutil.copytree(MINI, copy)
    manifest = copy / "exercise.toml"
    manifest.write_text(manifest.read_text() + "\n[budgets]\nsum_wall_s = 2\n")
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")
    report = grade(load_exercise(copy), bad)
    assert report.status == "rejected"
    assert report.budgets == {"sum_wall_s": 2.0} and report.limits.memory_mb == 256


def test_suite_over_its_budget_is_an_error(tmp_path: Path) -> None:
    copy = tmp_path / "mini-add"
    shutil.copytree(MINI, copy)
    manifest = copy / "exercise.toml"
    manifest.write_text(manifest.read_text().replace("timeout_s = 120", "timeout_s = 1"))
    (copy / "hidden" / "test_slow.py").write_text(
        "import time, pytest\n@pytest.mark.category('robustness')\n"
        "def test_slow():\n    time.sleep(30)\n"
    )
    report = grade(load_exercise(copy), MINI / "reference")
    assert report.status == "error" and "exceeded its budget of 1.0 s" in report.reason


def run_cli(*args: str, columns: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)} if columns else None
    return subprocess.run([WORKSAMPLE, *args], capture_output=True, text=True, check=False, env=env)


def test_cli_json_prints_one_report_and_exits_zero_whatever_the_score() -> None:
    out = run_cli("grade", str(MINI), str(MINI / "starter"), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)  # exactly one JSON document
    assert report["status"] == "graded" and report["score"] == 0.0
    for test in report["tests"]:
        assert {"id", "category", "weight", "outcome"} <= test.keys()
        assert test["description"] and test["points_lost"] == test["points"] > 0
    assert sum(t["points_lost"] for t in report["tests"]) == pytest.approx(100, abs=1e-3)
    assert {c["name"] for c in report["categories"]} == {"correctness", "robustness"}


def test_cli_exit_codes_for_rejected_and_unknown(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")
    out = run_cli("grade", str(MINI), str(bad), "--json")
    assert out.returncode == 2
    assert json.loads(out.stdout)["status"] == "rejected"
    out = run_cli("grade", "no-such-exercise", str(bad))
    assert out.returncode == 2 and "no exercise 'no-such-exercise'" in out.stderr


def test_cli_human_output_is_a_table_with_the_score() -> None:
    out = run_cli("grade", str(MINI), str(MINI / "reference"))
    assert out.returncode == 0
    assert "Score 100.0 / 100" in out.stdout and "correctness" in out.stdout
    assert "passed hidden/test_hidden.py::test_add_negative" in out.stderr  # live progress
    assert out.stdout.rstrip().endswith("No points lost.")


def test_cli_human_output_names_a_knockout_and_what_its_cap_took() -> None:
    out = run_cli("grade", str(MINI), str(MINI / "faulty" / "off-by-one"), "--backend", "local",
                  columns=200)  # fmt: skip
    assert out.returncode == 0, out.stderr
    after_score = out.stdout.split("Score 40.0 / 100", 1)[1]
    assert "Knock-out: adds wrongly when a number is negative (capped at 40;" in after_score
    assert "Points lost (60.00 of 100)" in after_score
    assert "-22.50 │ knock-out cap" in after_score


def test_cli_human_output_lists_the_points_lost_largest_first() -> None:
    out = run_cli("grade", str(MINI), str(MINI / "faulty" / "no-cli"), columns=200)
    assert out.returncode == 0, out.stderr
    after_score = out.stdout.split("Score 56.2 / 100", 1)[1]
    assert "Points lost (43.75 of 100)" in after_score
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in after_score.splitlines()
        if line.startswith("│")
    ]
    # Largest first, each with its description's first sentence, and only that.
    assert rows == [
        [
            "-25.00",
            "test_sum_of_missing_file_fails_cleanly",
            "robustness",
            "The sum command on a file that does not exist exits with status 2 and no traceback.",
        ],
        [
            "-18.75",
            "test_sum_command",
            "correctness",
            "`python3 solution.py sum data/numbers.txt` exits 0 and prints 10, the sum of the "
            "provided file.",
        ],
    ]


@pytest.mark.parametrize("backend", ["docker", "local"])
def test_candidate_runs_public_tests_from_the_kit(tmp_path: Path, backend: str) -> None:
    zipfile.ZipFile(io.BytesIO(build_starter_kit(EXERCISE))).extractall(tmp_path)
    kit = tmp_path / "mini-add"
    pytest_cmd = [sys.executable, "-m", "pytest", "tests", "-p", "no:cacheprovider",
                  f"--ws-backend={backend}"]  # fmt: skip
    before = subprocess.run(pytest_cmd, cwd=kit, capture_output=True, text=True, check=False)
    assert before.returncode == 1 and "NotImplementedError" in before.stdout
    shutil.copy(MINI / "reference" / "solution.py", kit / "solution.py")
    after = subprocess.run(pytest_cmd, cwd=kit, capture_output=True, text=True, check=False)
    assert after.returncode == 0, after.stdout
    if backend == "local":
        assert "WITHOUT a sandbox" in after.stdout


def test_starter_kit_is_deterministic_and_names_the_track() -> None:
    kit = build_starter_kit(EXERCISE)
    assert kit == build_starter_kit(EXERCISE)
    names = zipfile.ZipFile(io.BytesIO(kit)).namelist()
    assert "mini-add/worksample.toml" in names and "mini-add/tests/test_public.py" in names
    assert not any("hidden" in n or "reference" in n or "faulty" in n for n in names)


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        ("bad-track", "exercise.toml: track: Input should be 'ml' or 'ai'"),
        ("unknown-field", "exercise.toml: sandbox.memroy_mb: unknown field"),
        ("no-categories", "exercise.toml: categories: required field is missing"),
        ("wrong-id", "id 'something-else' must match the folder name 'wrong-id'"),
        ("broken-toml", "exercise.toml: not valid TOML"),
        ("missing-provided", "grading.provided: starter/data/absent.csv is missing"),
    ],
)
def test_invalid_exercises_get_precise_errors(folder: str, message: str) -> None:
    with pytest.raises(ExerciseError) as info:
        load_exercise(INVALID / folder)
    assert message in str(info.value)


def test_missing_image_is_an_infrastructure_error_not_a_score(tmp_path: Path) -> None:
    """A sandbox that cannot start voids the grading: status error, never a 0."""
    from worksample.graders import Submission
    from worksample.graders._grade import _run_suite
    from worksample.graders._report import ImageRef

    tree = Submission.from_files({"solution.py": b"def add(a, b):\n    return a + b\n"})
    outcome = _run_suite(
        EXERCISE,
        tree,
        tmp_path,
        ImageRef(tag="worksample/sandbox-ml:does-not-exist", id="sha256:0"),
        GradingOptions(),
        None,
    )
    assert isinstance(outcome, str)
    assert outcome.startswith("infrastructure failure during grading:")
    assert "could not start" in outcome
