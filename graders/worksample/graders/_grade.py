"""Grade one submission: intake, the trusted pytest run, scoring, the report.

The hidden suite runs in a pytest subprocess of the worker's own Python,
started with the grader's settings only: `python -P`, an explicit `-c` config
and `--rootdir`, `--confcutdir` at the exercise, plugin autoload disabled,
cache off, our plugin by `-p`. Nothing of the submission is on its path: the
submission exists only as a private folder the plugin copies into the sandbox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from worksample.graders._exercise import Exercise
from worksample.graders._intake import SubmissionRejected, read_submission
from worksample.graders._report import (
    MESSAGE_CAP,
    ExerciseRef,
    ImageRef,
    Report,
    Resources,
    TestResult,
    Timings,
)
from worksample.graders._scoring import score_categories
from worksample.sandboxes import MOCKLLM, EngineUnavailable, connect_engine, find_image

PYTEST_INI = """\
[pytest]
addopts = --import-mode=importlib -p no:cacheprovider -p no:randomly --tb=short -q
python_files = test_*.py
python_classes = Test*
python_functions = test_*
"""
Progress = Callable[[dict[str, Any]], None]


def grader_version() -> str:
    try:
        return version("worksample")
    except Exception:
        return "0+unknown"


def grade(
    exercise: Exercise,
    submission_path: Path,
    *,
    backend: str = "docker",
    public_only: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Grade `submission_path` (a zip or a folder). Never raises for the candidate's faults."""
    started = time.monotonic()
    base: dict[str, Any] = {
        "exercise": ExerciseRef(
            id=exercise.id,
            title=exercise.manifest.title,
            version=exercise.manifest.version,
            content_hash=exercise.content_hash,
        ),
        "backend": backend,
        "sandboxed": backend == "docker",
        "limits": exercise.manifest.sandbox,
        "grader_version": grader_version(),
        "public_only": public_only,
    }
    try:
        submission = read_submission(submission_path)
    except SubmissionRejected as exc:
        return Report(status="rejected", reason=str(exc), **base)
    except OSError as exc:
        return Report(
            status="rejected", reason=f"rejected: cannot read the submission: {exc}", **base
        )
    base["submission_sha256"] = submission.sha256
    intake_s = time.monotonic() - started

    image: ImageRef | None = None
    if backend == "docker":
        try:
            info = find_image(connect_engine(), exercise.manifest.track)
        except EngineUnavailable as exc:
            return Report(status="error", reason=str(exc), **base)
        if info is None:
            track = exercise.manifest.track
            return Report(
                status="error",
                reason=f"no {track} image: run `worksample images build --track {track}`",
                **base,
            )
        if exercise.manifest.track == "ai" and find_image(connect_engine(), MOCKLLM) is None:
            return Report(
                status="error",
                reason="no mock LLM image: run `worksample images build --track mockllm`",
                **base,
            )
        image = ImageRef(tag=info.tag, id=info.id)
    base["image"] = image

    with tempfile.TemporaryDirectory(prefix="ws-grade-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o700)
        sub_dir = work / "submission"
        for rel, data in submission.files.items():
            target = sub_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        suite_started = time.monotonic()
        outcome = _run_suite(exercise, sub_dir, work, image, backend, public_only, progress)
        suite_s = time.monotonic() - suite_started
    timings = Timings(
        intake_s=round(intake_s, 4),
        suite_s=round(suite_s, 4),
        total_s=round(time.monotonic() - started, 4),
    )
    if isinstance(outcome, str):
        return Report(status="error", reason=outcome, timings=timings, **base)
    tests = [TestResult.model_validate(t) for t in outcome["tests"]]
    score, categories = score_categories(exercise.manifest, tests)
    return Report(
        status="graded",
        score=score,
        categories=categories,
        tests=tests,
        resources=Resources(
            peak_memory_bytes=outcome.get("peak_memory_bytes"),
            candidate_wall_s=outcome.get("candidate_wall_s", 0.0),
            calls=outcome.get("calls", 0),
            sandbox_restarts=outcome.get("sandbox_restarts", 0),
        ),
        timings=timings,
        **base,
    )


def _run_suite(
    exercise: Exercise,
    submission: Path,
    work: Path,
    image: ImageRef | None,
    backend: str,
    public_only: bool,
    progress: Progress | None,
) -> dict[str, Any] | str:
    """The results dict, or the reason the grading could not be trusted."""
    ini = work / "pytest.ini"
    ini.write_text(PYTEST_INI)
    results = work / "results.json"
    events = work / "events.jsonl"
    events.touch()
    paths = [str(exercise.public_tests_dir)]
    if not public_only:
        paths.insert(0, str(exercise.hidden_dir))
    argv = [
        sys.executable, "-P", "-m", "pytest",
        "-c", str(ini),
        "--rootdir", str(exercise.root),
        "--confcutdir", str(exercise.root),
        "-p", "worksample.graders.plugin",
        "--ws-exercise", str(exercise.root),
        "--ws-submission", str(submission),
        "--ws-backend", backend,
        "--ws-results", str(results),
        "--ws-events", str(events),
        *(["--ws-image", image.tag] if image else []),
        *paths,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    stop = threading.Event()
    follower = threading.Thread(target=_follow, args=(events, progress, stop), daemon=True)
    if progress:
        follower.start()
    try:
        proc = subprocess.run(
            argv,
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=exercise.manifest.grading.timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"the hidden suite exceeded its budget of {exercise.manifest.grading.timeout_s} s"
    finally:
        stop.set()
        if progress:
            follower.join()
    tail = (proc.stdout + proc.stderr)[-MESSAGE_CAP:]
    if proc.returncode not in (0, 1):
        return f"the hidden suite did not run (pytest exit {proc.returncode}):\n{tail}"
    try:
        data: dict[str, Any] = json.loads(results.read_text())
    except (OSError, ValueError):
        return f"the hidden suite wrote no results (pytest exit {proc.returncode}):\n{tail}"
    if data.get("infra_errors"):
        first = data["infra_errors"][:3]
        return "infrastructure failure during grading: " + "; ".join(first)
    # Cross-check the plugin's results with pytest's own exit status.
    tests = data.get("tests", [])
    any_failed = any(t["outcome"] in ("failed", "error") for t in tests)
    if data.get("exitstatus") != proc.returncode or any_failed != (proc.returncode == 1):
        return f"results disagree with pytest's exit status {proc.returncode}:\n{tail}"
    if not tests or len(tests) != data.get("collected"):
        return f"ran {len(tests)} of {data.get('collected')} collected tests:\n{tail}"
    return data


def _follow(path: Path, progress: Progress | None, stop: threading.Event) -> None:
    assert progress is not None
    with path.open() as f:
        while True:
            line = f.readline()
            if line:
                try:
                    progress(json.loads(line))
                except ValueError:
                    pass
                continue
            if stop.is_set():
                return
            time.sleep(0.05)
