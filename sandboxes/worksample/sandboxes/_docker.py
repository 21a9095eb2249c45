"""The Docker backend: one hardened container per grading, on the Engine API.

A session starts the container with the harness as its main process (under
Docker's init), attaches to its stdin/stdout before starting it, and then talks
the harness protocol over that one socket, so a warm call costs a socket round
trip, not a `docker exec`. Every container of a backend runs under the OCI
runtime the backend was made for; a session reads back from the engine the
runtime its container actually got.
"""

from __future__ import annotations

from collections.abc import Mapping

import docker
import docker.errors
from worksample.sandboxes import _containerd
from worksample.sandboxes._cgroup import MemoryCgroup
from worksample.sandboxes._engine import Engine, EngineInfo
from worksample.sandboxes._errors import SandboxUnavailable
from worksample.sandboxes._hardening import HardenedContainer, Tmpfs
from worksample.sandboxes._harness_client import BASE_ENV, HARNESS, HarnessSession
from worksample.sandboxes._limits import Limits
from worksample.sandboxes._networks import create_internal_network, remove_network

# Their old home, for callers not yet on `_owner` (tests/conftest.py).
from worksample.sandboxes._owner import LABEL as LABEL
from worksample.sandboxes._owner import OWNER_LABEL as OWNER_LABEL
from worksample.sandboxes._owner import owner_id as owner_id
from worksample.sandboxes._stream import HarnessStream

SANDBOX_UID = "10001:10001"
# How long teardown waits for a killed gVisor sandbox to be reported stopped.
OOM_WITNESS_S = 10


class DockerBackend:
    """Starts hardened sandbox sessions on one Docker engine, under one runtime.

    Made by `Engine.backend(runtime)`, which checks the runtime is registered.
    `DockerBackend(client, runtime=...)` still takes a raw client (compatibility).
    """

    name = "docker"
    isolated = True

    def __init__(
        self,
        engine: Engine | docker.DockerClient | None = None,
        *,
        runtime: str | None = None,
        info: EngineInfo | None = None,
    ) -> None:
        if engine is None:
            engine = Engine.connect()
        elif not isinstance(engine, Engine):
            engine = Engine(engine)
        self.engine = engine
        self.client = engine.client
        self.runtime = runtime
        """The runtime asked for; None: the engine's default."""
        self._info = info

    def _engine_info(self) -> EngineInfo:
        if self._info is None:
            self._info = self.engine.info()
        return self._info

    @property
    def gvisor(self) -> bool:
        """The containers run under gVisor (whatever name its runtime is registered as)."""
        config = self._engine_info().runtime(self.runtime)
        return config is not None and config.gvisor

    @property
    def network_limit(self) -> str | None:
        """Why this backend's containers cannot join a network (None: they can)."""
        return self._engine_info().network_limit(self.runtime)

    def require_network(self) -> None:
        """Refuse, before anything starts, what would run without its network."""
        limit = self.network_limit
        if limit is not None:
            raise SandboxUnavailable(limit)

    def open_session(
        self,
        *,
        image: str,
        limits: Limits,
        network: str | None = None,
        env: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> DockerSession:
        if network is not None:
            self.require_network()
        session = DockerSession(
            self.client,
            image=image,
            limits=limits,
            network=network,
            env=dict(env or {}),
            labels=dict(labels or {}),
            runtime=self.runtime,
            gvisor=self.gvisor,
        )
        session.start()
        return session

    # ------------------------------------------------------------ networks
    def create_internal_network(self, *, isolate_host: bool = True) -> str:
        """An internal bridge network for one grading (see `_networks`)."""
        return create_internal_network(self.client, isolate_host=isolate_host)

    def remove_network(self, name: str) -> None:
        remove_network(self.client, name)


class DockerSession(HarnessSession):
    """One hardened container for one grading. Use as a context manager."""

    def __init__(
        self,
        client: docker.DockerClient,
        *,
        image: str,
        limits: Limits,
        network: str | None,
        env: dict[str, str],
        labels: dict[str, str],
        runtime: str | None,
        gvisor: bool = False,
    ) -> None:
        super().__init__(limits=limits, env=env)
        self.client = client
        self.api = client.api
        self.image = image
        self.network = network
        self.labels = labels
        self.requested_runtime = runtime
        self.gvisor = gvisor
        self.runtime = ""
        """The runtime the engine ran the container under (`runc` for its default)."""
        self.container_id: str | None = None
        self._started = False
        self._oom_killed = False

    def _container(self) -> HardenedContainer:
        limits = self.limits
        return HardenedContainer(
            image=self.image,
            command=["python3", "-I", "-S", HARNESS, "serve"],
            user=SANDBOX_UID,
            memory_mb=limits.memory_mb,
            cpus=limits.cpus,
            pids=limits.pids,
            tmpfs=[
                Tmpfs("/work", limits.work_mb, executable=True),
                Tmpfs("/tmp", limits.tmp_mb),
            ],
            runtime=self.requested_runtime,
            gvisor=self.gvisor,
            environment={**BASE_ENV, **self.env},
            labels=self.labels,
            network=self.network,
            fsize_mb=limits.fsize_mb,
            nofile=limits.nofile,
            # Under gVisor, memory past the limit gets the whole sandbox killed
            # by the host (the sentry holds the memory), not one process: the
            # container is kept until teardown so the engine can say so.
            auto_remove=not self.gvisor,
            stdin_open=True,
            working_dir="/work",
            hostname="sandbox",
        )

    def _start(self) -> None:
        self._started = False
        self.container_id = self._container().create(self.api)
        # Attach before start so that not a byte of the greeting is missed.
        sock = self.api.attach_socket(
            self.container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
        )
        stream = HarnessStream(getattr(sock, "_sock", sock), multiplexed=True)
        self._stream = stream
        self.api.start(self.container_id)
        self._started = True
        self.runtime = read_runtime(self.api, self.container_id)
        if self.requested_runtime is not None and self.runtime != self.requested_runtime:
            raise SandboxUnavailable(
                f"asked for the runtime {self.requested_runtime!r}, "
                f"the engine ran the sandbox under {self.runtime!r}"
            )
        self._greet(stream)
        self._cgroup = MemoryCgroup.find(self.container_id)

    def _discard(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if self.container_id is not None:
            if self.gvisor:
                self._remove_kept(self.container_id)
            else:
                self._kill(self.container_id)
            if not self._started and self.gvisor:
                # A start that failed under gVisor leaves its containerd
                # task and processes behind, unknown to Docker.
                _containerd.delete(self.container_id)
            self.container_id = None
        self._cgroup = None

    def _kill(self, container_id: str) -> None:
        # SIGKILL stops every process at once; the engine then removes the
        # container itself (AutoRemove), so teardown does not wait on it.
        # A container that was never started is not auto-removed: remove it.
        try:
            self.api.kill(container_id)
        except docker.errors.APIError:
            # Not running (never started, or already dying and being
            # auto-removed: the engine answers 409 then). Remove it; a
            # removal already under way is as good as done.
            try:
                self.api.remove_container(container_id, force=True)
            except docker.errors.APIError:
                pass

    def _remove_kept(self, container_id: str) -> None:
        """Kill, note whether the engine saw an OOM kill, and remove."""
        try:
            self.api.kill(container_id)
        except docker.errors.APIError:
            pass  # not running: it died, or never started
        try:
            self.api.wait(container_id, timeout=OOM_WITNESS_S)
            state = self.api.inspect_container(container_id).get("State") or {}
            self._oom_killed = bool(state.get("OOMKilled"))
        except (docker.errors.APIError, OSError):
            pass
        try:
            self.api.remove_container(container_id, force=True)
        except docker.errors.APIError:
            pass

    def _lost_to_oom(self) -> bool:
        oom, self._oom_killed = self._oom_killed, False
        return oom


def read_runtime(api: docker.APIClient, container_id: str) -> str:
    """The OCI runtime the engine runs `container_id` under."""
    try:
        runtime = api.inspect_container(container_id)["HostConfig"].get("Runtime")
    except (docker.errors.APIError, KeyError) as exc:
        raise SandboxUnavailable(f"cannot read the container's runtime: {exc}") from exc
    return str(runtime or "runc")
