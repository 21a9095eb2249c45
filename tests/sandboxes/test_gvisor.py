"""gVisor for real: gradings under `runsc`, witnessed by the engine, and its limits.

On these machines Debian's runsc (2022-12-19) starts containers only with
`--network=none` or `--network=host`: its own network stack refuses every
network namespace as "the root one" on this kernel. So `runsc` (no network)
runs the ML track, `runsc-net` (host network mode, inside the container's own
namespace that Docker sets up) runs the AI track, and `runsc` refuses an
internal network outright instead of starting a sandbox that cannot reach the mock.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import docker.errors
import httpx
import pytest
from hostnet import HostListener
from sandbox_runtimes import GVISOR, GVISOR_NET
from worksample.graders import Exercise, GradingOptions, Report, grade, load_exercise
from worksample.sandboxes import (
    DockerBackend,
    Engine,
    Limits,
    MockLLMService,
    SandboxOptions,
    SandboxUnavailable,
)
from worksample.sandboxes._docker import DockerSession
from worksample.sandboxes._owner import LABEL, OWNER_LABEL, owner_id

pytestmark = [pytest.mark.docker, pytest.mark.slow]

EXERCISES = Path(__file__).parents[1] / "graders" / "exercises"
MINI_ADD = load_exercise(EXERCISES / "mini-add")
MINI_CHAT = load_exercise(EXERCISES / "mini-chat")
LIMITS = Limits(memory_mb=256, call_timeout_s=20)


def _descends_from_me(pid: int) -> bool:
    while pid > 1:
        if pid == os.getpid():
            return True
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat.rpartition(")")[2].split()[1])
    return False


class ContainerWitness:
    """Every container of ours created meanwhile by this process or its children
    (the grader's pytest), with the runtime the engine gave it, read by inspecting
    it when its `create` event arrives (it exists at least until it has run)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.runtimes: dict[str, str] = {}
        self.roles: dict[str, str] = {}
        self._events = engine.client.events(
            decode=True, filters={"type": "container", "event": "create", "label": LABEL}
        )
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        try:
            for event in self._events:
                attributes = event.get("Actor", {}).get("Attributes", {})
                _, _, pid = attributes.get(OWNER_LABEL, "").rpartition(":")
                if not pid.isdigit() or not _descends_from_me(int(pid)):
                    continue  # another test run's, on the same engine
                container_id = event["Actor"]["ID"]
                try:
                    info = self.engine.client.api.inspect_container(container_id)
                except docker.errors.NotFound:
                    self.runtimes[container_id] = "gone before it could be inspected"
                    continue
                self.runtimes[container_id] = info["HostConfig"]["Runtime"]
                self.roles[container_id] = attributes.get("org.worksample.role", "sandbox")
        except Exception:  # the stream closed by stop()
            return

    def grade(self, exercise: Exercise, runtime: str) -> Report:
        """The reference of `exercise` graded under `runtime`; watching stops after."""
        options = GradingOptions(sandbox=SandboxOptions(backend="docker", runtime=runtime))
        try:
            return grade(exercise, exercise.reference_dir, options=options)
        finally:
            self.stop()

    def stop(self) -> None:
        self._events.close()
        self._thread.join(timeout=10)


@pytest.fixture
def witness(sandbox_engine: Engine) -> Iterator[ContainerWitness]:
    watching = ContainerWitness(sandbox_engine)
    yield watching
    watching.stop()


def test_a_grading_under_runsc_runs_the_candidate_under_runsc(
    gvisor_backend: DockerBackend, witness: ContainerWitness
) -> None:
    report = witness.grade(MINI_ADD, GVISOR)
    assert report.status == "graded" and report.score == 100.0, report.reason
    assert witness.runtimes, "no container of the grading was seen"
    assert set(witness.runtimes.values()) == {GVISOR}, witness.runtimes
    assert report.runtime_requested == GVISOR and report.runtimes == [GVISOR]


def test_an_ai_grading_under_network_less_gvisor_is_an_error_not_a_fallback(
    gvisor_backend: DockerBackend, witness: ContainerWitness
) -> None:
    report = witness.grade(MINI_CHAT, GVISOR)
    assert report.status == "error" and report.score is None
    assert "runs gVisor with --network=none" in (report.reason or ""), report.reason
    assert "runsc-net" in (report.reason or "")
    assert witness.runtimes == {}, "nothing may start: the refusal comes first"


def test_an_ai_grading_under_networked_gvisor_runs_both_containers_under_it(
    gvisor_net_backend: DockerBackend, witness: ContainerWitness
) -> None:
    report = witness.grade(MINI_CHAT, GVISOR_NET)
    assert report.status == "graded" and report.score == 100.0, report.reason
    assert set(witness.roles.values()) == {"sandbox", "mockllm"}, witness.roles
    assert set(witness.runtimes.values()) == {GVISOR_NET}, witness.runtimes
    assert report.runtimes == [GVISOR_NET]


def test_the_network_less_runtime_refuses_a_network_before_starting_anything(
    gvisor_backend: DockerBackend, ml_image: str, sandbox_engine: Engine
) -> None:
    before = sandbox_engine.ours()
    with pytest.raises(SandboxUnavailable, match="runs gVisor with --network=none"):
        gvisor_backend.open_session(image=ml_image, limits=LIMITS, network="ws-net-whatever")
    mock = sandbox_engine.require_image("mockllm")
    refused = pytest.raises(SandboxUnavailable, match="cannot join a network")
    with refused, MockLLMService(gvisor_backend, mock.tag, isolate_host=False):
        pass
    assert sandbox_engine.ours() == before


def test_the_networked_runtime_reaches_the_mock_and_nothing_else(
    gvisor_net_backend: DockerBackend,
    ai_image: str,
    sandbox_engine: Engine,
    host_listener: HostListener,
) -> None:
    """gVisor with host networking uses the host kernel's stack, but in the
    container's own namespace: the internal network and its firewall rules hold."""
    mock = sandbox_engine.require_image("mockllm")
    with MockLLMService(gvisor_net_backend, mock.tag) as llm:
        assert llm.endpoints is not None and llm.runtime == GVISOR_NET
        endpoints = llm.endpoints
        ipam = sandbox_engine.client.networks.get(endpoints.network).attrs["IPAM"]["Config"][0]
        host = f"({ipam['Gateway']!r}, {host_listener.port})"  # the bridge's own address
        probe = PROBE.replace("HOST_PORT", host)
        with gvisor_net_backend.open_session(
            image=ai_image, limits=LIMITS, network=endpoints.network, env=endpoints.candidate_env
        ) as s:
            assert s.runtime == GVISOR_NET
            out = s.run(["python3", "-c", probe], timeout=30).text()
        # The trusted side reaches the mock's admin API; the candidate's key cannot.
        answer = httpx.get(f"{endpoints.admin_url}/v1/models", timeout=5,
                           headers={"authorization": f"Bearer {endpoints.api_key}"})  # fmt: skip
        assert answer.status_code == 200
    assert "models 200" in out and "dns failed" in out and "outside failed" in out, out
    assert "host failed" in out and host_listener.accepted() == [], out


PROBE = """
import os, socket, httpx
r = httpx.get(os.environ["OPENAI_BASE_URL"] + "/models",
              headers={"authorization": "Bearer " + os.environ["OPENAI_API_KEY"]}, timeout=10)
print("models", r.status_code)
try:
    socket.getaddrinfo("example.com", 80); print("dns resolved")
except OSError as exc:
    print("dns failed", exc)
try:
    socket.create_connection(("192.0.2.1", 80), timeout=2); print("outside reached")
except OSError as exc:
    print("outside failed", exc)
try:
    socket.create_connection(HOST_PORT, timeout=2); print("host reached")
except OSError as exc:
    print("host failed", exc)
"""


def test_a_failed_gvisor_start_leaves_nothing_behind(
    gvisor_backend: DockerBackend,
    ml_image: str,
    sandbox_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """runsc leaves the task of a container it could not start in containerd, with
    its processes; Docker forgets it. A session cleans up after its own failed
    start, and `remove_leftovers` catches any other."""
    # The trap as first seen: a command runsc cannot load (no init in between).
    api = sandbox_engine.client.api
    container_id = api.create_container(
        ml_image,
        command=["/no-such-program"],
        labels={LABEL: "1", OWNER_LABEL: owner_id()},
        host_config=api.create_host_config(runtime=GVISOR, network_mode="none"),
    )["Id"]
    with pytest.raises(docker.errors.APIError, match="no-such-program"):
        api.start(container_id)
    api.remove_container(container_id, force=True)
    assert container_id in sandbox_engine.forgotten(), "the trap this guards against is gone"
    assert sandbox_engine.remove_leftovers() >= 1
    assert container_id not in sandbox_engine.forgotten()
    assert not _sandbox_processes(container_id)

    # A session's own failed start: a host pids limit below what gVisor's own
    # tasks need (gvisor=False: not raised for them) kills its sentry at start.
    container = DockerSession._container
    monkeypatch.setattr(
        DockerSession,
        "_container",
        lambda self: dataclasses.replace(container(self), gvisor=False, pids=16),
    )
    with pytest.raises(SandboxUnavailable, match="OCI runtime"):
        gvisor_backend.open_session(image=ml_image, limits=LIMITS)
    assert not sandbox_engine.forgotten()


def _sandbox_processes(container_id: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"runsc" in cmdline and container_id.encode() in cmdline:
                found.append(int(entry.name))
    return found
