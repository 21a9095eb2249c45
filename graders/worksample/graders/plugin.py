"""The graders' pytest plugin: fixtures, markers and result collection.

Loaded by the grader (`-p worksample.graders.plugin`, in a trusted pytest
process that never runs in the sandbox) and by a starter kit's `conftest.py`,
so a candidate runs the public tests with the same fixtures the grader uses.

Two modes:
- grading (`--ws-exercise` given): the exercise's hidden and public tests
  against a validated submission; results are written to `--ws-results`.
- candidate (no `--ws-exercise`): the folder pytest runs in is the submission;
  its `worksample.toml` (written into every starter kit) names the track and
  limits. Docker is used when it answers, else a local, unsandboxed run that
  says so.
"""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from worksample.graders._candidate import SUBMISSION_DIR, CallLog, Candidate
from worksample.graders._exercise import Exercise, load_exercise
from worksample.graders._kit import KIT_FILE
from worksample.graders._report import MESSAGE_CAP
from worksample.sandboxes import (
    MOCKLLM,
    UNSANDBOXED_WARNING,
    DockerBackend,
    EngineUnavailable,
    Limits,
    LLMEndpoints,
    LocalBackend,
    LocalMockLLM,
    MockLLMService,
    SandboxBackend,
    SandboxUnavailable,
    connect_engine,
    find_image,
)

if TYPE_CHECKING:
    from worksample.mockllm import MockLLMAdmin

PUBLIC_TESTS = "starter/tests/"
_SKIP_IN_KIT = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", "node_modules"}

_log = CallLog()
_results: dict[str, dict[str, Any]] = {}
# Infrastructure failures seen while testing: they void the grading (status
# `error`, retried) instead of counting against the candidate.
_infra: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("worksample")
    group.addoption("--ws-exercise", help="Exercise folder (grading mode).")
    group.addoption("--ws-submission", help="Folder of the validated submission.")
    group.addoption("--ws-backend", choices=("docker", "local"), default=None)
    group.addoption("--ws-image", help="Sandbox image tag (grading mode).")
    group.addoption("--ws-results", help="Where the grading results JSON goes.")
    group.addoption("--ws-events", help="Where progress events (JSON lines) go.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "category(name): the scoring category of a test")
    config.addinivalue_line("markers", "weight(n): the test's weight in its category (default 1)")
    config.addinivalue_line("markers", "public: a test shipped in the starter kit")


# --------------------------------------------------------------------------- collection
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    exercise = _exercise_or_none(config)
    problems = []
    for item in items:
        category = item.get_closest_marker("category")
        if category is None or len(category.args) != 1:
            problems.append(f"{item.nodeid}: needs exactly one @pytest.mark.category(name)")
        elif exercise is not None and exercise.manifest.category(category.args[0]) is None:
            known = ", ".join(c.name for c in exercise.manifest.categories)
            problems.append(f"{item.nodeid}: category {category.args[0]!r} is not one of {known}")
        weight = item.get_closest_marker("weight")
        if weight is not None and not (
            len(weight.args) == 1 and isinstance(weight.args[0], int | float) and weight.args[0] > 0
        ):
            problems.append(f"{item.nodeid}: @pytest.mark.weight takes one positive number")
        if exercise is not None:
            is_public = item.get_closest_marker("public") is not None
            if item.nodeid.startswith(PUBLIC_TESTS) and not is_public:
                problems.append(f"{item.nodeid}: tests in the starter must be marked public")
            if not item.nodeid.startswith(PUBLIC_TESTS) and is_public:
                problems.append(f"{item.nodeid}: hidden tests must not be marked public")
    if problems:
        raise pytest.UsageError("invalid hidden suite:\n" + "\n".join(problems))


# --------------------------------------------------------------------------- results
@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    _log.current = item.nodeid
    category = item.get_closest_marker("category")
    weight = item.get_closest_marker("weight")
    _results[item.nodeid] = {
        "id": item.nodeid,
        "name": item.name,
        "category": category.args[0] if category and category.args else "",
        "weight": float(weight.args[0]) if weight and weight.args else 1.0,
        "public": item.get_closest_marker("public") is not None,
        "outcome": "passed",
        "duration_s": 0.0,
        "message": "",
    }
    _event(item.config, {"event": "start", "id": item.nodeid})
    try:
        return (yield)
    finally:
        record = _results[item.nodeid]
        _event(item.config, {"event": "done", "id": item.nodeid, "outcome": record["outcome"]})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(SandboxUnavailable):
        _infra.append(f"{item.nodeid} ({call.when}): {call.excinfo.value}")
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    record = _results.get(report.nodeid)
    if record is None:
        return
    record["duration_s"] = round(record["duration_s"] + report.duration, 4)
    if report.passed:
        return
    if report.skipped:
        if record["outcome"] == "passed":
            record["outcome"] = "skipped"
            record["message"] = _crash_message(report)
        return
    if report.when == "teardown" and record["outcome"] == "passed":
        # The test itself passed; what broke is a fixture's clean-up (the
        # sandbox's, at the end of the session). Not the candidate's doing:
        # it voids the grading instead of failing this test.
        _infra.append(f"{report.nodeid} (teardown): {_crash_message(report)}")
        return
    # A failure in set-up is an error; in the test body, a failure.
    record["outcome"] = "failed" if report.when == "call" else "error"
    if not record["message"]:
        record["message"] = _crash_message(report)


def _crash_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    if report.when != "call":
        text = f"in {report.when}: {text}"
    return text[:MESSAGE_CAP]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.getoption("--ws-results")
    if not path:
        return
    payload = {
        "exitstatus": int(exitstatus),
        "collected": session.testscollected,
        "tests": [
            {**record, "calls": [c.model_dump() for c in _log.by_test.get(test_id, [])]}
            for test_id, record in _results.items()
        ],
        "peak_memory_bytes": _log.peak_memory_bytes,
        "candidate_wall_s": round(_log.wall_s, 4),
        "calls": _log.count,
        "sandbox_restarts": _state.get("restarts", 0),
        "infra_errors": _infra,
    }
    Path(path).write_text(json.dumps(payload))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _exercise_or_none(config) is None and _backend_name(config) == "local":
        terminalreporter.write_line(f"worksample: {UNSANDBOXED_WARNING}", yellow=True)


def pytest_report_header(config: pytest.Config) -> str | None:
    if _exercise_or_none(config) is None and _backend_name(config) == "local":
        return f"worksample: {UNSANDBOXED_WARNING}"
    return None


# --------------------------------------------------------------------------- fixtures
_state: dict[str, int] = {}


@pytest.fixture(scope="session")
def exercise(pytestconfig: pytest.Config) -> Exercise:
    """The exercise being graded (grading mode only): root, hidden_dir, manifest."""
    found = _exercise_or_none(pytestconfig)
    if found is None:
        pytest.fail("the `exercise` fixture exists only when the platform grades")
    return found


@pytest.fixture(scope="session")
def ws_llm_endpoints(pytestconfig: pytest.Config) -> Iterator[LLMEndpoints | None]:
    """AI track: the grading's own mock LLM (a container on an internal network
    with the Docker backend, a loopback server with the local one)."""
    if _track(pytestconfig) != "ai":
        yield None
        return
    if _backend_name(pytestconfig) == "docker":
        client = connect_engine()
        info = find_image(client, MOCKLLM)
        if info is None:
            raise SandboxUnavailable(
                "no current mock LLM image: run `worksample images build --track mockllm`"
            )
        with MockLLMService(DockerBackend(client), info.tag) as service:
            yield service.endpoints
    else:
        with LocalMockLLM() as local:
            yield local.endpoints


@pytest.fixture(scope="session")
def mock_llm(ws_llm_endpoints: LLMEndpoints | None) -> Iterator[MockLLMAdmin]:
    """AI track: scenario control and the request log of the grading's mock LLM."""
    if ws_llm_endpoints is None:
        pytest.fail("the `mock_llm` fixture exists only for AI-track exercises")
    from worksample.mockllm import MockLLMAdmin as Admin

    with Admin(ws_llm_endpoints.admin_url, ws_llm_endpoints.admin_token) as admin:
        yield admin


@pytest.fixture(scope="session")
def candidate(
    pytestconfig: pytest.Config, ws_llm_endpoints: LLMEndpoints | None
) -> Iterator[Candidate]:
    """The submission's sandbox: `run`, `call`, `put_files`, `get_file`."""
    config = pytestconfig
    found = _exercise_or_none(config)
    track = _track(config)
    if found is not None:
        submission = Path(config.getoption("--ws-submission"))
        limits = found.manifest.sandbox
        image = config.getoption("--ws-image") or ""
        provided = {
            rel: (found.starter_dir / rel).read_bytes() for rel in found.manifest.grading.provided
        }
    else:
        submission = config.rootpath
        limits, _ = _kit_settings(config.rootpath)
        image, provided = "", {}
    network = ws_llm_endpoints.network or None if ws_llm_endpoints else None
    env = ws_llm_endpoints.candidate_env if ws_llm_endpoints else {}
    backend: SandboxBackend
    if _backend_name(config) == "docker":
        client = connect_engine()
        backend = DockerBackend(client)
        if not image:
            info = find_image(client, track)
            if info is None:
                raise SandboxUnavailable(
                    f"no current {track} image: run `worksample images build --track {track}`"
                )
            image = info.tag
    else:
        backend = LocalBackend()
    with backend.open_session(image=image, limits=limits, network=network, env=env) as session:
        session.put_files(_read_submission(submission), SUBMISSION_DIR)
        if provided:
            session.put_files(provided, SUBMISSION_DIR)
        yield Candidate(session, _log, sandboxed=backend.isolated)
        _state["restarts"] = getattr(session, "restarts", 0)


# --------------------------------------------------------------------------- helpers
def _exercise_or_none(config: pytest.Config) -> Exercise | None:
    cached: Exercise | None = getattr(config, "_ws_exercise", None)
    if cached is None and config.getoption("--ws-exercise"):
        cached = load_exercise(Path(config.getoption("--ws-exercise")))
        config._ws_exercise = cached  # type: ignore[attr-defined]
    return cached


def _track(config: pytest.Config) -> str:
    found = _exercise_or_none(config)
    if found is not None:
        return found.manifest.track
    return _kit_settings(config.rootpath)[1]


def _backend_name(config: pytest.Config) -> str:
    chosen: str | None = config.getoption("--ws-backend")
    if chosen:
        return chosen
    cached: str | None = getattr(config, "_ws_backend", None)
    if cached is None:
        try:
            connect_engine(timeout=5)
            cached = "docker"
        except EngineUnavailable:
            cached = "local"
        config._ws_backend = cached  # type: ignore[attr-defined]
    return cached


def _kit_settings(root: Path) -> tuple[Limits, str]:
    path = root / KIT_FILE
    if not path.is_file():
        raise pytest.UsageError(
            f"{path} is missing: run the public tests from the starter kit's folder"
        )
    data = tomllib.loads(path.read_text())
    return Limits.model_validate(data.get("sandbox", {})), str(data["track"])


def _read_submission(root: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in _SKIP_IN_KIT for part in rel.parts) or path.is_symlink():
            continue
        if path.is_file() and path.suffix != ".pyc":
            files[rel.as_posix()] = path.read_bytes()
    return files


def _event(config: pytest.Config, event: dict[str, Any]) -> None:
    path = config.getoption("--ws-events")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({**event, "t": time.time()}) + "\n")
