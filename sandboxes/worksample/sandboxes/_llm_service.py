"""The mock LLM for one AI-track grading: its own container on its own network.

Per grading: an internal bridge network (its containers reach each other and
nothing else), the mock's container on it under the alias `llm`, and the
candidate's sandbox on the same network. The candidate gets the API key; the
admin token stays on the trusted side, which reaches the mock by its IP on that
network (the host can, the candidate's container cannot reach the host).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import docker
import docker.errors
import httpx
from worksample.mockllm._settings import ENV_ADMIN_TOKEN, ENV_API_KEY
from worksample.sandboxes import _containerd
from worksample.sandboxes._docker import DockerBackend, read_runtime
from worksample.sandboxes._errors import SandboxError, SandboxUnavailable
from worksample.sandboxes._hardening import HardenedContainer, Tmpfs
from worksample.sandboxes._owner import ROLE_LABEL

ALIAS = "llm"
PORT = 8080
READY_TIMEOUT_S = 60.0
MOCK_UID = "10002:10002"


@dataclass(frozen=True)
class LLMEndpoints:
    """What each side needs. `candidate_env` goes into the sandbox; the rest does not."""

    network: str
    admin_url: str
    admin_token: str
    api_key: str
    candidate_base: str = f"http://{ALIAS}:{PORT}"

    @property
    def candidate_env(self) -> dict[str, str]:
        base = self.candidate_base
        return {
            "OPENAI_BASE_URL": f"{base}/v1",
            "OPENAI_API_KEY": self.api_key,
            "ANTHROPIC_BASE_URL": base,
            "ANTHROPIC_API_KEY": self.api_key,
        }


class MockLLMService:
    """Start with `with MockLLMService(backend, image) as llm:`; everything is removed after."""

    def __init__(self, backend: DockerBackend, image: str, *, isolate_host: bool = True) -> None:
        self.backend = backend
        self.isolate_host = isolate_host
        self.client: docker.DockerClient = backend.client
        self.image = image
        self.network: str | None = None
        self.container_id: str | None = None
        self._started = False
        self.runtime = ""
        """The runtime the engine ran the mock under (the backend's; `runc` by default)."""
        self.endpoints: LLMEndpoints | None = None

    def __enter__(self) -> Self:
        try:
            self.endpoints = self._start()
        except SandboxUnavailable:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise SandboxUnavailable(f"the mock LLM could not start: {exc}") from exc
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self) -> LLMEndpoints:
        # Under a runtime whose containers get no network, the mock could not be
        # reached: refuse before anything is created.
        self.backend.require_network()
        self.network = self.backend.create_internal_network(isolate_host=self.isolate_host)
        api_key = "sk-ws-" + secrets.token_urlsafe(18)
        admin_token = secrets.token_urlsafe(24)
        self.container_id = HardenedContainer(
            image=self.image,
            # Secrets go by environment: on a command line, a token that starts
            # with "-" reads as an option (1 start in 64 failed that way).
            command=["python3", "-m", "worksample.mockllm", "serve", "--host=0.0.0.0",
                     f"--port={PORT}"],
            user=MOCK_UID,
            memory_mb=1024,
            cpus=1.0,
            pids=128,
            tmpfs=[Tmpfs("/tmp", 64)],
            runtime=self.backend.runtime,
            gvisor=self.backend.gvisor,
            environment={ENV_API_KEY: api_key, ENV_ADMIN_TOKEN: admin_token},
            labels={ROLE_LABEL: "mockllm"},
            network=self.network,
            alias=ALIAS,
            # Removed by close(), not by the engine: if it exits at start, its
            # output is still there to say why. Its output is ours, bounded.
            log_kb=256,
            auto_remove=False,
        ).create(self.client.api)  # fmt: skip
        self.client.api.start(self.container_id)
        self._started = True
        self.runtime = read_runtime(self.client.api, self.container_id)
        if self.backend.runtime is not None and self.runtime != self.backend.runtime:
            raise SandboxError(
                f"asked for the runtime {self.backend.runtime!r}, "
                f"the engine ran the mock LLM under {self.runtime!r}"
            )
        admin_url = self._wait_ready(api_key)
        return LLMEndpoints(self.network, admin_url, admin_token, api_key)

    def _wait_ready(self, api_key: str) -> str:
        """The admin URL once the mock answers. The container's address is read
        again on every try: under load the engine may report it late."""
        assert self.container_id is not None and self.network is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        last = "no address yet"
        while time.monotonic() < deadline:
            info = self.client.api.inspect_container(self.container_id)
            state = info.get("State", {})
            if not state.get("Running"):
                raise SandboxError(
                    f"the mock LLM exited: {state.get('Status')}, "
                    f"exit code {state.get('ExitCode')}, oom {state.get('OOMKilled')}"
                    f"{self._last_output()}"
                )
            network = info["NetworkSettings"]["Networks"].get(self.network) or {}
            ip = network.get("IPAddress")
            if ip:
                url = f"http://{ip}:{PORT}"
                try:
                    answer = httpx.get(
                        f"{url}/v1/models",
                        timeout=2,
                        headers={"authorization": f"Bearer {api_key}"},
                    )
                    if answer.status_code == 200:
                        return url
                    last = f"HTTP {answer.status_code}"
                except httpx.HTTPError as exc:
                    last = f"{type(exc).__name__} at {url}"
            time.sleep(0.1)
        raise SandboxError(f"the mock LLM did not answer within {READY_TIMEOUT_S:.0f} s ({last})")

    def _last_output(self) -> str:
        """The end of the container's output, for an error message ("" if none)."""
        assert self.container_id is not None
        try:
            raw = self.client.api.logs(self.container_id, tail=20)
        except docker.errors.APIError:
            return ""
        text = raw.decode("utf-8", "replace").strip() if isinstance(raw, bytes) else ""
        return f"; its last output:\n{text[-2000:]}" if text else ""

    def close(self) -> None:
        if self.container_id is not None:
            try:
                self.client.api.remove_container(self.container_id, force=True)
            except docker.errors.APIError:
                pass  # gone already, or its removal is under way
            if not self._started and self.backend.gvisor:
                # A failed gVisor start leaves a task Docker does not know.
                _containerd.delete(self.container_id)
            self.container_id = None
        if self.network is not None:
            self.backend.remove_network(self.network)
            self.network = None
