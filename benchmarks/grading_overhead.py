"""Grading overhead: a full sandboxed grading vs the same hidden suite run bare.

    .venv/bin/python benchmarks/grading_overhead.py [EXERCISE ...] [--rounds 3]

For each exercise (id or folder; default: tests/graders/exercises/mini-add and
every exercise under exercises/), in one run:
  bare     plain `pytest` of the hidden and public tests against the reference
           on the host (the plugin's local backend: no container, no intake,
           no report)
  graded   `worksample.graders.grade(...)` with the Docker backend: intake,
           the trusted pytest subprocess, one hardened container, the report
Goal (README): graded <= 1.3 x bare + 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from worksample.graders import (
    Exercise,
    GradingOptions,
    grade,
    list_exercise_dirs,
    load_exercise,
    read_directory,
)
from worksample.graders._grade import PYTEST_INI
from worksample.sandboxes import SandboxOptions

ROOT = Path(__file__).resolve().parents[1]


def bare_run(exercise: Exercise) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        ini = Path(tmp, "pytest.ini")
        ini.write_text(PYTEST_INI)
        tree = Path(tmp, "submission.json")
        tree.write_text(read_directory(exercise.reference_dir).model_dump_json())
        options = Path(tmp, "options.json")
        options.write_text(
            GradingOptions(sandbox=SandboxOptions(backend="local")).model_dump_json()
        )
        argv = [
            sys.executable, "-m", "pytest", "-c", str(ini),
            "--rootdir", str(exercise.root), "--confcutdir", str(exercise.root),
            "-p", "worksample.graders.plugin",
            "--ws-exercise", str(exercise.root),
            "--ws-submission", str(tree),
            "--ws-options", str(options),
            str(exercise.hidden_dir), str(exercise.public_tests_dir),
        ]  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=tmp, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bare run of {exercise.id} failed:\n{proc.stdout[-3000:]}")
    return elapsed


def graded_run(exercise: Exercise) -> float:
    start = time.perf_counter()
    report = grade(exercise, exercise.reference_dir, options=GradingOptions())
    elapsed = time.perf_counter() - start
    if report.status != "graded" or report.score != 100.0:
        sys.exit(f"grading {exercise.id} gave {report.status} {report.score}: {report.reason}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    paths = [Path(p) if Path(p).is_dir() else ROOT / "exercises" / p for p in args.exercises]
    if not paths:
        paths = [ROOT / "tests/graders/exercises/mini-add", *list_exercise_dirs(ROOT / "exercises")]
    print(f"{'exercise':24} {'bare s':>8} {'graded s':>9} {'ratio':>6} {'goal s':>7}  verdict")
    for path in paths:
        exercise = load_exercise(path)
        bare = statistics.median(bare_run(exercise) for _ in range(args.rounds))
        graded = statistics.median(graded_run(exercise) for _ in range(args.rounds))
        goal = 1.3 * bare + 1.0
        verdict = "ok" if graded <= goal else "over"
        print(
            f"{exercise.id:24} {bare:8.2f} {graded:9.2f} {graded / bare:6.2f} {goal:7.2f}  "
            f"{verdict}"
        )


if __name__ == "__main__":
    main()
