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
from worksample.graders._intake import (
    Submission,
    SubmissionRejected,
    place_required,
    read_submission,
    read_zip,
)
from worksample.graders._options import GradingOptions
from worksample.graders._report import (
    MESSAGE_CAP,
    ExerciseRef,
    ImageRef,
    Report,
    Resources,
    Timings,
)
from worksample.graders._results import SuiteResults
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
SubmissionInput = Path | bytes | Submission


def grader_version() -> str:
    try:
        return version("worksample")
    except Exception:
        return "0+unknown"


def grade(
    exercise: Exercise,
    submission: SubmissionInput,
    *,
    options: GradingOptions | None = None,
    progress: Progress | None = None,
) -> Report:
    """Grade a submission: a zip or a folder (`Path`), a zip's bytes (as stored by
    the platform), or a `Submission` already read by intake. Never raises for the
    candidate's faults."""
    options = options or GradingOptions()
    started = time.monotonic()
    backend = options.sandbox.backend
    base: dict[str, Any] = {
        "exercise": ExerciseRef(
            id=exercise.id,
            title=exercise.manifest.title,
            version=exercise.manifest.version,
            content_hash=exercise.content_hash,
        ),
        "backend": backend,
        "sandboxed": backend == "docker",
        "runtime_requested": options.sandbox.runtime,
        "limits": exercise.manifest.sandbox,
        "budgets": dict(exercise.manifest.budgets),
        "grader_version": grader_version(),
        "public_only": options.public_only,
    }
    try:
        tree = _read(exercise, submission)
    except SubmissionRejected as exc:
        return Report(status="rejected", reason=str(exc), **base)
    except OSError as exc:
        return Report(
            status="rejected", reason=f"rejected: cannot read the submission: {exc}", **base
        )
    base["submission_sha256"] = tree.sha256
    intake_s = time.monotonic() - started

    image: ImageRef | None = None
    if backend == "docker":
        try:
            found = _current_images(exercise.manifest.track)
        except EngineUnavailable as exc:
            return Report(status="error", reason=str(exc), **base)
        if isinstance(found, str):
            return Report(status="error", reason=found, **base)
        image, base["llm_image"] = found
    base["image"] = image

    with tempfile.TemporaryDirectory(prefix="ws-grade-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o700)
        suite_started = time.monotonic()
        outcome = _run_suite(exercise, tree, work, image, options, progress)
        suite_s = time.monotonic() - suite_started
    timings = Timings(
        intake_s=round(intake_s, 4),
        suite_s=round(suite_s, 4),
        sandbox_start_s=0.0 if isinstance(outcome, str) else outcome.sandbox_start_s,
        llm_start_s=0.0 if isinstance(outcome, str) else outcome.llm_start_s,
        total_s=round(time.monotonic() - started, 4),
    )
    if isinstance(outcome, str):
        return Report(status="error", reason=outcome, timings=timings, **base)
    scoring = score_categories(exercise.manifest, outcome.tests)
    return Report(
        status="graded",
        score=scoring.total,
        uncapped_score=scoring.uncapped,
        knockouts=scoring.knockouts,
        categories=scoring.categories,
        tests=scoring.tests,
        resources=Resources(
            peak_memory_bytes=outcome.peak_memory_bytes,
            candidate_wall_s=outcome.candidate_wall_s,
            calls=outcome.calls,
            sandbox_restarts=outcome.sandbox_restarts,
        ),
        runtimes=outcome.runtimes,
        timings=timings,
        **base,
    )


def _read(exercise: Exercise, submission: SubmissionInput) -> Submission:
    """The validated tree, with the exercise's required paths where they belong
    (a tree read elsewhere is checked again: intake is cheap next to a grading)."""
    required = exercise.manifest.submission.required
    if isinstance(submission, Submission):
        return place_required(submission, required)
    if isinstance(submission, bytes):
        return read_zip(submission, required=required)
    return read_submission(submission, required=required)


def _current_images(track: str) -> tuple[ImageRef, ImageRef | None] | str:
    """The track's current image and, for the AI track, the mock LLM's; or why
    there is none. The images are built here and never pushed, so the engine's
    image id is their digest (`ImageRef.digest_source`)."""
    client = connect_engine()
    info = find_image(client, track)
    if info is None:
        return f"no {track} image: run `worksample images build --track {track}`"
    llm = None
    if track == "ai":
        llm = find_image(client, MOCKLLM)
        if llm is None:
            return "no mock LLM image: run `worksample images build --track mockllm`"
    image = ImageRef(tag=info.tag, id=info.id, digest=info.id)
    return image, (ImageRef(tag=llm.tag, id=llm.id, digest=llm.id) if llm else None)


def _run_suite(
    exercise: Exercise,
    submission: Submission,
    work: Path,
    image: ImageRef | None,
    options: GradingOptions,
    progress: Progress | None,
) -> SuiteResults | str:
    """The suite's results, or the reason the grading could not be trusted."""
    ini = work / "pytest.ini"
    ini.write_text(PYTEST_INI)
    tree = work / "submission.json"
    tree.write_text(submission.model_dump_json())
    options_file = work / "options.json"
    options_file.write_text(options.model_dump_json())
    results = work / "results.json"
    events = work / "events.jsonl"
    events.touch()
    paths = [str(exercise.public_tests_dir)]
    if not options.public_only:
        paths.insert(0, str(exercise.hidden_dir))
    argv = [
        sys.executable, "-P", "-m", "pytest",
        "-c", str(ini),
        "--rootdir", str(exercise.root),
        "--confcutdir", str(exercise.root),
        "-p", "worksample.graders.plugin",
        "--ws-exercise", str(exercise.root),
        "--ws-submission", str(tree),
        "--ws-options", str(options_file),
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
        data = SuiteResults.model_validate_json(results.read_bytes())
    except (OSError, ValueError):
        return f"the hidden suite wrote no results (pytest exit {proc.returncode}):\n{tail}"
    if data.infra_errors:
        return "infrastructure failure during grading: " + "; ".join(data.infra_errors[:3])
    wanted = options.sandbox.runtime
    if wanted and any(r != wanted for r in data.runtimes):
        return f"asked for the runtime {wanted!r}, containers ran under {data.runtimes}"
    # Cross-check the plugin's results with pytest's own exit status.
    any_failed = any(t.outcome in ("failed", "error") for t in data.tests)
    if data.exitstatus != proc.returncode or any_failed != (proc.returncode == 1):
        return f"results disagree with pytest's exit status {proc.returncode}:\n{tail}"
    if not data.tests or len(data.tests) != data.collected:
        return f"ran {len(data.tests)} of {data.collected} collected tests:\n{tail}"
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
