"""The Docker backend: one hardened container per grading, on the Engine API.

This is the only module that imports `docker`. A session starts the container
with the harness as its main process (under Docker's init), attaches to its
stdin/stdout before starting it, and then talks the harness protocol over that
one socket, so a warm call costs a socket round trip, not a `docker exec`.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping

import docker
import docker.errors
from docker.types import LogConfig, Ulimit
from worksample.sandboxes._cgroup import MemoryCgroup
from worksample.sandboxes._errors import EngineUnavailable
from worksample.sandboxes._harness_client import BASE_ENV, HARNESS, HarnessSession
from worksample.sandboxes._hostfw import (
    block_host_input,
    blocked_interfaces,
    unblock_host_input,
)
from worksample.sandboxes._limits import Limits
from worksample.sandboxes._stream import HarnessStream

LABEL = "org.worksample.sandbox"
OWNER_LABEL = "org.worksample.owner"
SANDBOX_UID = "10001:10001"


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def connect_engine(timeout: int = 120) -> docker.DockerClient:
    """A client of the local engine (DOCKER_HOST honoured), or a clear error."""
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(
            "no Docker engine answers (DOCKER_HOST or /var/run/docker.sock): "
            f"{exc}. Start one, or run scripts/setup which installs and starts it as root."
        ) from exc
    return client


class DockerBackend:
    """Starts hardened sandbox sessions on one Docker engine."""

    name = "docker"
    isolated = True

    def __init__(
        self,
        client: docker.DockerClient | None = None,
        *,
        runtime: str | None = None,
    ) -> None:
        self.client = client or connect_engine()
        self.runtime = runtime

    def open_session(
        self,
        *,
        image: str,
        limits: Limits,
        network: str | None = None,
        env: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> DockerSession:
        session = DockerSession(
            self.client,
            image=image,
            limits=limits,
            network=network,
            env=dict(env or {}),
            labels=dict(labels or {}),
            runtime=self.runtime,
        )
        session.start()
        return session

    # ------------------------------------------------------------ networks
    def create_internal_network(self, *, isolate_host: bool = True) -> str:
        """An internal bridge network: its containers reach each other, nothing else.

        Its bridge interface is named after it (`wsn` + 12 hex digits), so that
        with `isolate_host` the host's INPUT from it can be dropped (see _hostfw).
        """
        suffix = uuid.uuid4().hex[:12]
        name = f"ws-net-{suffix}"
        self.client.networks.create(
            name,
            driver="bridge",
            internal=True,
            options={"com.docker.network.bridge.name": f"wsn{suffix}"},
            labels={LABEL: "1", OWNER_LABEL: owner_id()},
        )
        if isolate_host:
            try:
                block_host_input(f"wsn{suffix}")
            except Exception:
                self.remove_network(name)
                raise
        return name

    def remove_network(self, name: str) -> None:
        try:
            self.client.networks.get(name).remove()
        except docker.errors.NotFound:
            pass
        if name.startswith("ws-net-"):
            unblock_host_input("wsn" + name.removeprefix("ws-net-"))

    # ------------------------------------------------------------ clean-up
    def remove_leftovers(self, *, everything: bool = False) -> int:
        """Remove containers and networks of ours whose owning process is gone.

        Owners are `host:pid`; a worker on this host that is still alive keeps
        its sandboxes. `everything=True` removes all of ours on this engine.
        """
        host = socket.gethostname()

        def orphaned(labels: Mapping[str, str]) -> bool:
            if everything:
                return True
            owner_host, _, pid = labels.get(OWNER_LABEL, "").rpartition(":")
            if owner_host != host or not pid.isdigit():
                return False
            return not _pid_alive(int(pid))

        removed = 0
        for container in self.client.containers.list(all=True, filters={"label": LABEL}):
            if orphaned(container.labels):
                try:
                    container.remove(force=True)
                    removed += 1
                except docker.errors.NotFound:
                    pass
        for network in self.client.networks.list(filters={"label": LABEL}):
            if orphaned(network.attrs.get("Labels") or {}):
                try:
                    self.remove_network(str(network.name))
                    removed += 1
                except (docker.errors.NotFound, docker.errors.APIError):
                    pass
        # Firewall rules whose network is gone (a worker died before its clean-up).
        live = {str(n.name).removeprefix("ws-net-") for n in self.client.networks.list()}
        for interface in blocked_interfaces():
            if interface.removeprefix("wsn") not in live:
                unblock_host_input(interface)
        return removed

    def ours(self) -> list[str]:
        """Ids of every container and network of ours on this engine."""
        ids = [c.id for c in self.client.containers.list(all=True, filters={"label": LABEL})]
        ids += [n.id for n in self.client.networks.list(filters={"label": LABEL})]
        return [i for i in ids if i]


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
    ) -> None:
        super().__init__(limits=limits, env=env)
        self.client = client
        self.api = client.api
        self.image = image
        self.network = network
        self.labels = labels
        self.runtime = runtime
        self.container_id: str | None = None

    def _start(self) -> None:
        limits = self.limits
        mb = 1024 * 1024
        host_config = self.api.create_host_config(
            network_mode=self.network or "none",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            read_only=True,
            tmpfs={
                "/work": f"rw,nosuid,nodev,size={limits.work_mb}m,mode=1777",
                "/tmp": f"rw,nosuid,nodev,noexec,size={limits.tmp_mb}m,mode=1777",
            },
            mem_limit=limits.memory_mb * mb,
            memswap_limit=limits.memory_mb * mb,
            nano_cpus=int(limits.cpus * 1e9),
            pids_limit=limits.pids,
            ulimits=[
                Ulimit(name="fsize", soft=limits.fsize_mb * mb, hard=limits.fsize_mb * mb),
                Ulimit(name="nofile", soft=limits.nofile, hard=limits.nofile),
                Ulimit(name="core", soft=0, hard=0),
            ],
            init=True,
            auto_remove=True,
            log_config=LogConfig(type="none"),
            ipc_mode="private",
            runtime=self.runtime,
        )
        created = self.api.create_container(
            self.image,
            command=["python3", "-I", "-S", HARNESS, "serve"],
            user=SANDBOX_UID,
            stdin_open=True,
            tty=False,
            working_dir="/work",
            hostname="sandbox",
            environment={**BASE_ENV, **self.env},
            labels={**self.labels, LABEL: "1", OWNER_LABEL: owner_id()},
            host_config=host_config,
            # With no named network, NetworkDisabled as well as mode "none":
            # the same empty namespace (only lo), but the engine skips its
            # network sandbox set-up, which halves the container start (~100 ms).
            network_disabled=self.network is None,
        )
        self.container_id = created["Id"]
        # Attach before start so that not a byte of the greeting is missed.
        sock = self.api.attach_socket(
            self.container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
        )
        stream = HarnessStream(getattr(sock, "_sock", sock), multiplexed=True)
        self.api.start(self.container_id)
        self._greet(stream)
        self._cgroup = MemoryCgroup.find(self.container_id)

    def _discard(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if self.container_id is not None:
            # SIGKILL stops every process at once; the engine then removes the
            # container itself (AutoRemove), so teardown does not wait on it.
            # A container that was never started is not auto-removed: remove it.
            try:
                self.api.kill(self.container_id)
            except docker.errors.APIError:
                # Not running (never started, or already dying and being
                # auto-removed: the engine answers 409 then). Remove it; a
                # removal already under way is as good as done.
                try:
                    self.api.remove_container(self.container_id, force=True)
                except docker.errors.APIError:
                    pass
            self.container_id = None
        self._cgroup = None
