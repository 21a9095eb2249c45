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
from docker.types import LogConfig
from worksample.mockllm._settings import ENV_ADMIN_TOKEN, ENV_API_KEY
from worksample.sandboxes._docker import LABEL, OWNER_LABEL, DockerBackend, owner_id
from worksample.sandboxes._errors import SandboxError, SandboxUnavailable

ALIAS = "llm"
PORT = 8080
READY_TIMEOUT_S = 60.0


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
        self.endpoints: LLMEndpoints | None = None

    def __enter__(self) -> Self:
        try:
            self.endpoints = self._start()
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
        api = self.client.api
        self.network = self.backend.create_internal_network(isolate_host=self.isolate_host)
        api_key = "sk-ws-" + secrets.token_urlsafe(18)
        admin_token = secrets.token_urlsafe(24)
        host_config = api.create_host_config(
            network_mode=self.network,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            read_only=True,
            tmpfs={"/tmp": "rw,nosuid,nodev,noexec,size=64m"},
            mem_limit=1024 * 1024 * 1024,
            memswap_limit=1024 * 1024 * 1024,
            nano_cpus=int(1e9),
            pids_limit=128,
            init=True,
            # Removed by close(), not by the engine: if it exits at start, its
            # output is still there to say why. Its output is ours, bounded.
            log_config=LogConfig(
                type="local", config={"max-size": "256k", "max-file": "1", "compress": "false"}
            ),
        )
        created = api.create_container(
            self.image,
            # Secrets go by environment: on a command line, a token that starts
            # with "-" reads as an option (1 start in 64 failed that way).
            command=["python3", "-m", "worksample.mockllm", "serve", "--host=0.0.0.0",
                     f"--port={PORT}"],
            environment={ENV_API_KEY: api_key, ENV_ADMIN_TOKEN: admin_token},
            user="10002:10002",
            labels={LABEL: "1", OWNER_LABEL: owner_id(), "org.worksample.role": "mockllm"},
            host_config=host_config,
            # types-docker types this argument wrongly: the API takes {network: endpoint}.
            networking_config=api.create_networking_config(
                {self.network: api.create_endpoint_config(aliases=[ALIAS])}  # type: ignore[arg-type]
            ),
        )  # fmt: skip
        self.container_id = created["Id"]
        api.start(self.container_id)
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
            self.container_id = None
        if self.network is not None:
            self.backend.remove_network(self.network)
            self.network = None
