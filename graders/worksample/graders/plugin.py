"""The graders' pytest plugin: fixtures, markers and result collection.

Loaded by the grader (`-p worksample.graders.plugin`, in a trusted pytest
process that never runs in the sandbox) and by a starter kit's `conftest.py`,
so a candidate runs the public tests with the same fixtures the grader uses.

Two modes:
- grading (`--ws-exercise` given): the exercise's hidden and public tests
  against a validated submission (`--ws-submission`, the `Submission` as
  JSON); options (`--ws-options`, `GradingOptions` as JSON) say where and how;
  results are written to `--ws-results` as `SuiteResults`.
- candidate (no `--ws-exercise`): the folder holding `worksample.toml` (every
  downloaded kit has one), or an exercise's `starter/` folder in an author's
  repository, is the submission, read by the same intake as an upload. Tests
  without the `public` marker are the candidate's own and run as ordinary
  tests. Docker is used when it answers, else a local, unsandboxed run that
  says so.

The plugin's state lives in `config.stash` (one `PluginState` per run).
"""

from __future__ import annotations

import inspect
import json
import time
import tomllib
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from worksample.graders._candidate import SUBMISSION_DIR, CallLog, Candidate
from worksample.graders._exercise import MANIFEST, Exercise, load_exercise
from worksample.graders._intake import Submission, SubmissionRejected, read_directory
from worksample.graders._kit import KIT_FILE
from worksample.graders._options import GradingOptions
from worksample.graders._report import MESSAGE_CAP, TestResult
from worksample.graders._results import SuiteResults
from worksample.sandboxes import (
    MOCKLLM,
    UNSANDBOXED_WARNING,
    Limits,
    LLMEndpoints,
    LocalBackend,
    LocalMockLLM,
    MockLLMService,
    SandboxBackend,
    SandboxOptions,
    SandboxUnavailable,
    detect_backend,
)

if TYPE_CHECKING:
    from worksample.mockllm import MockLLMAdmin

PUBLIC_TESTS = "starter/tests/"


@dataclass
class PluginState:
    """Everything this plugin keeps for one pytest run."""

    options: GradingOptions
    exercise: Exercise | None  # grading mode only
    track: str
    limits: Limits
    candidate_root: Path | None  # candidate mode only
    log: CallLog = field(default_factory=CallLog)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Infrastructure failures seen while testing: they void the grading (status
    # `error`, retried) instead of counting against the candidate.
    infra: list[str] = field(default_factory=list)
    restarts: int = 0
    runtimes: set[str] = field(default_factory=set)
    sandbox_start_s: float = 0.0
    llm_start_s: float = 0.0

    @property
    def grading(self) -> bool:
        return self.exercise is not None


STATE = pytest.StashKey[PluginState]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("worksample")
    group.addoption("--ws-exercise", help="Exercise folder (grading mode).")
    group.addoption("--ws-submission", help="The validated submission, as JSON (grading mode).")
    group.addoption("--ws-options", help="GradingOptions as JSON (grading mode).")
    group.addoption(
        "--ws-backend",
        choices=("docker", "local"),
        default=None,
        help="Where your code runs: docker (default when an engine answers) or local.",
    )
    group.addoption("--ws-runtime", default=None, help="OCI runtime of the sandbox, e.g. runsc.")
    group.addoption("--ws-image", help="Sandbox image tag (grading mode).")
    group.addoption("--ws-results", help="Where the grading results JSON goes.")
    group.addoption("--ws-events", help="Where progress events (JSON lines) go.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "category(name): the scoring category of a test")
    config.addinivalue_line("markers", "weight(n): the test's weight in its category (default 1)")
    config.addinivalue_line("markers", "public: a test shipped in the starter kit")
    config.stash[STATE] = _make_state(config)


def _make_state(config: pytest.Config) -> PluginState:
    if config.getoption("--ws-exercise"):
        exercise = load_exercise(Path(config.getoption("--ws-exercise")))
        raw = config.getoption("--ws-options")
        options = (
            GradingOptions.model_validate_json(Path(raw).read_text()) if raw else GradingOptions()
        )
        m = exercise.manifest
        return PluginState(options, exercise, m.track, m.sandbox, candidate_root=None)
    root, limits, track = _candidate_kit(Path(config.invocation_params.dir))
    backend = config.getoption("--ws-backend") or detect_backend()
    sandbox = SandboxOptions(backend=backend, runtime=config.getoption("--ws-runtime"))
    return PluginState(GradingOptions(sandbox=sandbox), None, track, limits, candidate_root=root)


def _state(config: pytest.Config) -> PluginState:
    return config.stash[STATE]


# --------------------------------------------------------------------------- collection
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    state = _state(config)
    if not state.grading:
        # A candidate's run: the kit's public tests and any tests of their own.
        # Markers are the exercise's business, checked when it is validated.
        return
    assert state.exercise is not None
    manifest = state.exercise.manifest
    problems = []
    for item in items:
        category = item.get_closest_marker("category")
        if category is None or len(category.args) != 1:
            problems.append(f"{item.nodeid}: needs exactly one @pytest.mark.category(name)")
        elif manifest.category(category.args[0]) is None:
            known = ", ".join(c.name for c in manifest.categories)
            problems.append(f"{item.nodeid}: category {category.args[0]!r} is not one of {known}")
        weight = item.get_closest_marker("weight")
        if weight is not None and not (
            len(weight.args) == 1 and isinstance(weight.args[0], int | float) and weight.args[0] > 0
        ):
            problems.append(f"{item.nodeid}: @pytest.mark.weight takes one positive number")
        is_public = item.get_closest_marker("public") is not None
        if item.nodeid.startswith(PUBLIC_TESTS) and not is_public:
            problems.append(f"{item.nodeid}: tests in the starter must be marked public")
        if not item.nodeid.startswith(PUBLIC_TESTS) and is_public:
            problems.append(f"{item.nodeid}: hidden tests must not be marked public")
        if not _describe(item):
            problems.append(
                f"{item.nodeid}: needs a docstring saying what the test checks and what a "
                "failure tells a reviewer (the report shows it beside the points)"
            )
    if problems:
        raise pytest.UsageError("invalid hidden suite:\n" + "\n".join(problems))


def _describe(item: pytest.Item) -> str:
    """A test's description: its function's docstring, cleaned."""
    doc = getattr(getattr(item, "function", None), "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


# --------------------------------------------------------------------------- results
@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    state = _state(item.config)
    state.log.current = item.nodeid
    category = item.get_closest_marker("category")
    weight = item.get_closest_marker("weight")
    state.records[item.nodeid] = {
        "id": item.nodeid,
        "name": item.name,
        "category": category.args[0] if category and category.args else "",
        "weight": float(weight.args[0]) if weight and weight.args else 1.0,
        "public": item.get_closest_marker("public") is not None,
        "description": _describe(item),
        "outcome": "passed",
        "duration_s": 0.0,
        "message": "",
    }
    _event(item.config, {"event": "start", "id": item.nodeid})
    try:
        return (yield)
    finally:
        outcome = state.records[item.nodeid]["outcome"]
        _event(item.config, {"event": "done", "id": item.nodeid, "outcome": outcome})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = yield
    state = _state(item.config)
    if call.excinfo is not None and call.excinfo.errisinstance(SandboxUnavailable):
        state.infra.append(f"{item.nodeid} ({call.when}): {call.excinfo.value}")
    if (record := state.records.get(item.nodeid)) is not None:
        _record_phase(state, record, report)
    return report


def _record_phase(state: PluginState, record: dict[str, Any], report: pytest.TestReport) -> None:
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
        state.infra.append(f"{report.nodeid} (teardown): {_crash_message(report)}")
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
    state = _state(session.config)
    path = session.config.getoption("--ws-results")
    if not path:
        return
    results = SuiteResults(
        exitstatus=int(exitstatus),
        collected=session.testscollected,
        tests=[
            TestResult.model_validate({**record, "calls": state.log.by_test.get(test_id, [])})
            for test_id, record in state.records.items()
        ],
        peak_memory_bytes=state.log.peak_memory_bytes,
        candidate_wall_s=round(state.log.wall_s, 4),
        calls=state.log.count,
        sandbox_restarts=state.restarts,
        sandbox_start_s=round(state.sandbox_start_s, 4),
        llm_start_s=round(state.llm_start_s, 4),
        runtimes=sorted(state.runtimes),
        infra_errors=state.infra,
    )
    Path(path).write_text(results.model_dump_json())


def pytest_report_header(config: pytest.Config) -> str | None:
    state = _state(config)
    if state.grading:
        return None
    assert state.candidate_root is not None
    lines = [f"worksample: your submission is {state.candidate_root}"]
    if state.options.backend == "local":
        lines.append(f"worksample: {_unsandboxed(config)}")
    return "\n".join(lines)


def _unsandboxed(config: pytest.Config) -> str:
    if config.getoption("--ws-backend") == "local":
        return "running WITHOUT a sandbox (--ws-backend local): the code runs on this machine"
    return UNSANDBOXED_WARNING


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = _state(config)
    if state.grading:
        return
    public = sum(1 for r in state.records.values() if r["public"])
    own = len(state.records) - public
    terminalreporter.write_line(
        f"worksample: {public} public test(s) of the exercise"
        + (f" and {own} test(s) of your own" if own else "")
        + "; the grader runs the public tests and a hidden suite, never your own tests."
    )
    if state.options.backend == "local":
        terminalreporter.write_line(f"worksample: {_unsandboxed(config)}", yellow=True)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def exercise(pytestconfig: pytest.Config) -> Exercise:
    """The exercise being graded (grading mode only): root, hidden_dir, manifest."""
    found = _state(pytestconfig).exercise
    if found is None:
        pytest.fail("the `exercise` fixture exists only when the platform grades")
    return found


@pytest.fixture(scope="session")
def ws_backend(pytestconfig: pytest.Config) -> SandboxBackend:
    """The backend every container of this run starts on, with the asked-for runtime."""
    options = _state(pytestconfig).options.sandbox
    if options.backend == "local":
        return LocalBackend()
    from worksample.sandboxes import DockerBackend, connect_engine

    return DockerBackend(connect_engine(), runtime=options.runtime)


@pytest.fixture(scope="session")
def ws_llm_endpoints(
    pytestconfig: pytest.Config, ws_backend: SandboxBackend
) -> Iterator[LLMEndpoints | None]:
    """AI track: the grading's own mock LLM (a container on an internal network
    with the Docker backend, a loopback server with the local one)."""
    state = _state(pytestconfig)
    if state.track != "ai":
        yield None
        return
    started = time.monotonic()
    if isinstance(ws_backend, LocalBackend):
        with LocalMockLLM() as local:
            state.llm_start_s = time.monotonic() - started
            yield local.endpoints
        return
    from worksample.sandboxes import DockerBackend, find_image

    assert isinstance(ws_backend, DockerBackend)
    info = find_image(ws_backend.client, MOCKLLM)
    if info is None:
        raise SandboxUnavailable(
            "no current mock LLM image: run `worksample images build --track mockllm`"
        )
    with MockLLMService(ws_backend, info.tag) as service:
        _note_runtime(state, service)
        state.llm_start_s = time.monotonic() - started
        yield service.endpoints


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
    pytestconfig: pytest.Config,
    ws_backend: SandboxBackend,
    ws_llm_endpoints: LLMEndpoints | None,
) -> Iterator[Candidate]:
    """The submission's sandbox: `run`, `call`, `put_files`, `get_file`."""
    state = _state(pytestconfig)
    if state.exercise is not None:
        raw = Path(pytestconfig.getoption("--ws-submission")).read_bytes()
        files = Submission.model_validate_json(raw).files
        image = pytestconfig.getoption("--ws-image") or ""
        starter = state.exercise.starter_dir
        provided = {
            rel: (starter / rel).read_bytes() for rel in state.exercise.manifest.grading.provided
        }
    else:
        assert state.candidate_root is not None
        files, image, provided = _read_own_folder(state.candidate_root), "", {}
    network = ws_llm_endpoints.network or None if ws_llm_endpoints else None
    env = ws_llm_endpoints.candidate_env if ws_llm_endpoints else {}
    if not image and not isinstance(ws_backend, LocalBackend):
        from worksample.sandboxes import DockerBackend, find_image

        assert isinstance(ws_backend, DockerBackend)
        info = find_image(ws_backend.client, state.track)
        if info is None:
            raise SandboxUnavailable(
                f"no current {state.track} image: run "
                f"`worksample images build --track {state.track}`"
            )
        image = info.tag
    started = time.monotonic()
    with ws_backend.open_session(
        image=image, limits=state.limits, network=network, env=env
    ) as session:
        _note_runtime(state, session)
        session.put_files(files, SUBMISSION_DIR)
        if provided:
            session.put_files(provided, SUBMISSION_DIR)
        state.sandbox_start_s = time.monotonic() - started
        yield Candidate(session, state.log, sandboxed=ws_backend.isolated)
        state.restarts = getattr(session, "restarts", 0)


# --------------------------------------------------------------------------- helpers
def _note_runtime(state: PluginState, container: object) -> None:
    """Record the runtime a container actually runs under, and refuse a grading
    whose container runs under another than the one asked for."""
    runtime = getattr(container, "runtime", None)
    if runtime is None:
        return
    state.runtimes.add(str(runtime))
    wanted = state.options.sandbox.runtime
    if wanted and runtime != wanted:
        raise SandboxUnavailable(f"asked for the runtime {wanted!r}, the engine used {runtime!r}")


def _candidate_kit(start: Path) -> tuple[Path, Limits, str]:
    """(submission folder, limits, track) of a candidate's run started in `start`.

    The folder is the nearest one up from `start` holding the kit's
    `worksample.toml`, or an exercise's `starter/` in an author's repository."""
    for folder in (start, *start.parents):
        kit = folder / KIT_FILE
        if kit.is_file():
            data = tomllib.loads(kit.read_text())
            return folder, Limits.model_validate(data.get("sandbox", {})), str(data["track"])
        if folder.name == "starter" and (folder.parent / MANIFEST).is_file():
            manifest = load_exercise(folder.parent).manifest
            return folder, manifest.sandbox, manifest.track
    raise pytest.UsageError(
        f"no {KIT_FILE} in {start} or above it: run the public tests from the folder of the "
        "starter kit you downloaded (it holds worksample.toml), or from an exercise's starter/"
    )


def _read_own_folder(root: Path) -> dict[str, bytes]:
    """The candidate's folder, read by the same intake as an upload."""
    try:
        return read_directory(root).files
    except SubmissionRejected as exc:
        raise pytest.UsageError(
            f"the platform would not accept this folder as a submission: {exc.reason}"
        ) from None


def _event(config: pytest.Config, event: dict[str, Any]) -> None:
    path = config.getoption("--ws-events")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({**event, "t": time.time()}) + "\n")
