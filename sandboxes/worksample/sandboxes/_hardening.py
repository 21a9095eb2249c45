"""The one hardened container configuration of ours, for every kind of container.

The candidate's sandbox and the AI track's mock LLM both start from here, so a
hardening added (or lost) is added (or lost) for both. Always on, whatever the
container: all capabilities dropped, `no-new-privileges`, a read-only root with
`nosuid,nodev` tmpfs mounts, memory equal to memory + swap, a CPU quota, a pids
limit (under gVisor, see `GVISOR_HOST_TASKS`), no core dumps, Docker's init as
PID 1, private IPC, our ownership labels, and the OCI runtime the backend was
asked for. What differs between the two
kinds (user, tmpfs sizes, file-size and open-file limits, the log driver, the
network, AutoRemove) is a parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import docker
from docker.types import LogConfig, Ulimit
from worksample.sandboxes._owner import owner_labels

MB = 1024 * 1024
# Under gVisor the pids cgroup counts the host's tasks of the sandbox, not the
# candidate's: measured with runsc's ptrace platform, about 45 for an idle
# harness and 7 more per process in it (461 with 61 processes, 1,729 with 253).
# Reaching that limit kills the whole sandbox (exit 2) instead of failing a
# fork. So under gVisor the candidate's limit is RLIMIT_NPROC, which gVisor's
# own kernel enforces for the sandbox alone (fork fails with EAGAIN at the
# limit, as with the cgroup under runc; under runc it would count every process
# of that uid on the host), and the cgroup stays as the host's backstop, above
# what that many processes cost.
GVISOR_HOST_TASKS = 64
GVISOR_HOST_TASKS_PER_PROCESS = 8


@dataclass(frozen=True)
class Tmpfs:
    """A size-capped, world-writable (sticky) tmpfs; `noexec` unless `executable`."""

    path: str
    size_mb: int
    executable: bool = False

    @property
    def options(self) -> str:
        noexec = "" if self.executable else ",noexec"
        return f"rw,nosuid,nodev{noexec},size={self.size_mb}m,mode=1777"


@dataclass(frozen=True)
class HardenedContainer:
    """What to start; `create` makes the container (not started) and returns its id."""

    image: str
    command: Sequence[str]
    user: str
    memory_mb: int
    cpus: float
    pids: int
    tmpfs: Sequence[Tmpfs]
    runtime: str | None = None
    """OCI runtime; None: the engine's default."""
    gvisor: bool = False
    """The runtime is gVisor's runsc: `pids` is enforced by its kernel (see above)."""
    environment: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    network: str | None = None
    """A named network to join; None: no network at all (only `lo`)."""
    alias: str | None = None
    """The container's name for the others on `network`."""
    fsize_mb: int | None = None
    nofile: int | None = None
    log_kb: int | None = None
    """None: no log driver (all output goes through the harness, capped);
    else the engine keeps this much of the output (to say why a start failed)."""
    auto_remove: bool = True
    """The engine removes the container when it stops (teardown does not wait)."""
    stdin_open: bool = False
    working_dir: str | None = None
    hostname: str | None = None

    def ulimits(self) -> list[Ulimit]:
        limits = [Ulimit(name="core", soft=0, hard=0)]
        if self.fsize_mb is not None:
            size = self.fsize_mb * MB
            limits.append(Ulimit(name="fsize", soft=size, hard=size))
        if self.nofile is not None:
            limits.append(Ulimit(name="nofile", soft=self.nofile, hard=self.nofile))
        if self.gvisor:
            limits.append(Ulimit(name="nproc", soft=self.pids, hard=self.pids))
        return limits

    def host_pids(self) -> int:
        if self.gvisor:
            return GVISOR_HOST_TASKS + GVISOR_HOST_TASKS_PER_PROCESS * self.pids
        return self.pids

    def log_config(self) -> LogConfig:
        if self.log_kb is None:
            return LogConfig(type="none")
        return LogConfig(
            type="local",
            config={"max-size": f"{self.log_kb}k", "max-file": "1", "compress": "false"},
        )

    def create(self, api: docker.APIClient) -> str:
        host_config = api.create_host_config(
            network_mode=self.network or "none",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            read_only=True,
            tmpfs={t.path: t.options for t in self.tmpfs},
            mem_limit=self.memory_mb * MB,
            memswap_limit=self.memory_mb * MB,
            nano_cpus=int(self.cpus * 1e9),
            pids_limit=self.host_pids(),
            ulimits=self.ulimits(),
            init=True,
            auto_remove=self.auto_remove,
            log_config=self.log_config(),
            ipc_mode="private",
            runtime=self.runtime,
        )
        networking_config = None
        if self.network is not None and self.alias is not None:
            # types-docker types this argument wrongly: the API takes {network: endpoint}.
            networking_config = api.create_networking_config(
                {self.network: api.create_endpoint_config(aliases=[self.alias])}  # type: ignore[arg-type]
            )
        created = api.create_container(
            self.image,
            command=list(self.command),
            user=self.user,
            stdin_open=self.stdin_open,
            tty=False,
            working_dir=self.working_dir,
            hostname=self.hostname,
            environment=dict(self.environment),
            labels={**self.labels, **owner_labels()},
            host_config=host_config,
            networking_config=networking_config,
            # With no named network, NetworkDisabled as well as mode "none":
            # the same empty namespace (only lo), but the engine skips its
            # network sandbox set-up, which halves the container start (~100 ms).
            network_disabled=self.network is None,
        )
        return str(created["Id"])
