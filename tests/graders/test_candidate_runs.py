"""A candidate's (or an author's) own run of the public tests, with plain pytest."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from worksample.graders import build_starter_kit, load_exercise

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
MINI = HERE / "exercises" / "mini-add"
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--ws-backend=local"]

MY_TESTS = """\
from solution import add


def test_add_zero():
    assert add(0, 0) == 0


def test_add_negative():
    assert add(-2, -3) == -5
"""


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PYTEST, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=300
    )


def test_a_candidates_own_tests_run_beside_the_public_ones(tmp_path: Path) -> None:
    zipfile.ZipFile(io.BytesIO(build_starter_kit(load_exercise(MINI)))).extractall(tmp_path)
    kit = tmp_path / "mini-add"
    shutil.copy(MINI / "reference" / "solution.py", kit / "solution.py")
    (kit / "tests" / "test_mine.py").write_text(MY_TESTS)
    done = run(kit)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "test_mine.py" in out or "passed" in out
    assert "2 test(s) of your own" in out
    assert "hidden suite" not in out.replace("and a hidden suite, never your own", "")
    assert "invalid" not in out

    # A failing test of the candidate's own fails their run like any test.
    (kit / "tests" / "test_mine.py").write_text(MY_TESTS.replace("== -5", "== 5"))
    failed = run(kit)
    assert failed.returncode == 1
    assert "test_mine.py::test_add_negative" in failed.stdout


def test_the_public_tests_run_in_an_exercises_starter_folder() -> None:
    """An author runs `pytest` in `exercises/<id>/starter` of the repository
    itself; the manifest next to it stands in for the kit's worksample.toml."""
    starter = ROOT / "exercises" / "ml-churn-pipeline" / "starter"
    done = run(starter)
    out = done.stdout + done.stderr
    assert "worksample.toml" not in out
    assert f"your submission is {starter}" in out
    # The starter is the unsolved kit: its public tests run and fail.
    assert done.returncode == 1, out
    assert "3 failed" in out
    assert "3 public test(s) of the exercise" in out


def test_outside_a_kit_the_run_says_where_to_run_it(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ("worksample.graders.plugin",)\n')
    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n")
    done = run(tmp_path)
    assert done.returncode == 4
    assert "run the public tests from the folder of the starter kit" in done.stderr
