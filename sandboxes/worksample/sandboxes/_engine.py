"""The Docker engine, behind one facade: what it is, its images, its backends.

Nothing outside `worksample.sandboxes` needs a Docker client: the CLI, the
graders and the tests ask an `Engine` for its facts (`info`), for an image
(`find_image`, `require_image`, `build_image`), for a backend under a given
OCI runtime (`backend`), and to clean up what dead workers left (`remove_leftovers`).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import docker
import docker.errors
from docker.models.containers import Container
from pydantic import BaseModel, ConfigDict
from worksample.sandboxes import _containerd, _images
from worksample.sandboxes._errors import EngineUnavailable, ImageMissing, SandboxUnavailable
from worksample.sandboxes._hostfw import blocked_interfaces, unblock_host_input
from worksample.sandboxes._images import DEFAULT_BASE, ImageInfo, Progress
from worksample.sandboxes._networks import BRIDGE_PREFIX, PREFIX, remove_network
from worksample.sandboxes._owner import LABEL, OWNER_LABEL, is_orphaned

if TYPE_CHECKING:
    from worksample.sandboxes._docker import DockerBackend

# The runtime gVisor's recipe registers for containers that have a network
# (see scripts/setup and README "The sandbox"): named in error messages.
GVISOR_NETWORKED = "runsc-net"


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


class RuntimeConfig(BaseModel):
    """One OCI runtime as the engine has it registered."""

    model_config = ConfigDict(frozen=True)

    name: str
    path: str
    args: tuple[str, ...] = ()

    @property
    def gvisor(self) -> bool:
        return PurePosixPath(self.path).name.startswith("runsc")

    @property
    def gvisor_network(self) -> str | None:
        """gVisor's `--network` mode (`sandbox` when not given); None for other runtimes."""
        if not self.gvisor:
            return None
        mode = "sandbox"
        args = list(self.args)
        for i, arg in enumerate(args):
            flag, _, value = arg.lstrip("-").partition("=")
            if flag == "network":
                mode = value or (args[i + 1] if i + 1 < len(args) else mode)
        return mode


class EngineInfo(BaseModel):
    """What `docker info` says, the parts we use."""

    model_config = ConfigDict(frozen=True)

    server_version: str
    operating_system: str
    cgroup_version: str
    storage_driver: str
    runtimes: tuple[str, ...]
    default_runtime: str
    docker_root_dir: str
    runtime_configs: tuple[RuntimeConfig, ...] = ()

    def runtime(self, name: str | None) -> RuntimeConfig | None:
        """The runtime called `name` (None: the default one), if registered."""
        wanted = name or self.default_runtime
        return next((r for r in self.runtime_configs if r.name == wanted), None)

    def network_limit(self, name: str | None) -> str | None:
        """Why containers under runtime `name` cannot join a network, or None if they can.

        gVisor with `--network=none` gives its containers no network at all, even
        on a named one: an AI-track sandbox would silently not reach the mock.
        """
        config = self.runtime(name)
        if config is None or config.gvisor_network != "none":
            return None
        networked = [
            r.name for r in self.runtime_configs if r.gvisor and r.gvisor_network != "none"
        ]
        instead = (
            f"the engine has {', '.join(networked)} for that"
            if networked
            else f"register gVisor with --network=host for that (scripts/test registers "
            f"{GVISOR_NETWORKED})"
        )
        return (
            f"the runtime {config.name!r} runs gVisor with --network=none "
            f"(runtimeArgs {list(config.args)}): its containers cannot join a network, so an "
            f"AI-track grading (sandbox and mock LLM on an internal network) cannot run under "
            f"it; {instead}, and set WORKSAMPLE_DOCKER_RUNTIME to it"
        )


class Engine:
    """One Docker engine. `Engine.connect()` for the local one."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        """The raw client, for this package and for tests that witness the engine."""

    @classmethod
    def connect(cls, timeout: int = 120) -> Engine:
        return cls(connect_engine(timeout=timeout))

    # ------------------------------------------------------------ facts
    def info(self) -> EngineInfo:
        raw = self.client.info()
        registered = raw.get("Runtimes") or {}
        configs = tuple(
            RuntimeConfig(
                name=name,
                path=str(spec.get("path") or name),
                args=tuple(str(a) for a in spec.get("runtimeArgs") or ()),
            )
            for name, spec in sorted(registered.items())
        )
        return EngineInfo(
            server_version=str(raw.get("ServerVersion", "?")),
            operating_system=str(raw.get("OperatingSystem", "?")),
            cgroup_version=str(raw.get("CgroupVersion", "?")),
            storage_driver=str(raw.get("Driver", "?")),
            runtimes=tuple(c.name for c in configs),
            default_runtime=str(raw.get("DefaultRuntime") or "runc"),
            docker_root_dir=str(raw.get("DockerRootDir") or "/var/lib/docker"),
            runtime_configs=configs,
        )

    # ------------------------------------------------------------ images
    def find_image(self, name: str) -> ImageInfo | None:
        """The newest built image `name` (a track or the mock's) of the current inputs."""
        return _images.find_image(self.client, name)

    def require_image(self, name: str) -> ImageInfo:
        found = self.find_image(name)
        if found is None:
            raise ImageMissing(
                f"no current {name} image: run `worksample images build --track {name}`"
            )
        return found

    def build_image(
        self,
        name: str,
        *,
        base_image: str = DEFAULT_BASE,
        cache_dir: Path,
        progress: Progress = lambda _: None,
    ) -> ImageInfo:
        return _images.build_image(
            self.client, name, base_image=base_image, cache_dir=cache_dir, progress=progress
        )

    # ------------------------------------------------------------ backends
    def backend(self, runtime: str | None = None) -> DockerBackend:
        """A backend whose every container runs under `runtime` (None: the default).

        A runtime the engine does not have is refused here, before any grading
        starts, rather than by every container start.
        """
        from worksample.sandboxes._docker import DockerBackend

        info = self.info()
        if runtime is not None and runtime not in info.runtimes:
            raise SandboxUnavailable(
                f"the OCI runtime {runtime!r} is not registered with the Docker engine "
                f"(it has: {', '.join(info.runtimes)}); register it in the engine's "
                "daemon.json (scripts/test does so for gVisor) or unset WORKSAMPLE_DOCKER_RUNTIME"
            )
        return DockerBackend(self, runtime=runtime, info=info)

    # ------------------------------------------------------------ clean-up
    def remove_leftovers(self, everything: bool = False) -> int:
        """Remove containers and networks of ours whose owning process is gone.

        Owners are `host:pid`; a worker on this host that is still alive keeps
        its sandboxes. `everything=True` removes all of ours on this engine.
        Also removed: containerd tasks Docker has forgotten (a failed gVisor
        start leaves them) and firewall rules of networks that are gone.
        """
        removed = 0
        for container in self._our_containers():
            if everything or is_orphaned(container.attrs.get("Labels") or {}):
                try:
                    container.remove(force=True)
                    removed += 1
                except docker.errors.NotFound:
                    pass
        for network in self.client.networks.list(filters={"label": LABEL}):
            if everything or is_orphaned(network.attrs.get("Labels") or {}):
                try:
                    remove_network(self.client, str(network.name))
                    removed += 1
                except (docker.errors.NotFound, docker.errors.APIError):
                    pass
        removed += sum(_containerd.delete(i) for i in sorted(self.forgotten()))
        # Firewall rules whose network is gone (a worker died before its clean-up).
        live = {str(n.name).removeprefix(PREFIX) for n in self.client.networks.list()}
        for interface in blocked_interfaces():
            if interface.removeprefix(BRIDGE_PREFIX) not in live:
                unblock_host_input(interface)
        return removed

    def ours(self, *, owner: str | None = None) -> list[str]:
        """Ids of every container and network of ours on this engine (of `owner`'s only,
        `host:pid`, if given)."""
        ids = [c.id for c in self._our_containers(owner)]
        label = LABEL if owner is None else f"{OWNER_LABEL}={owner}"
        ids += [n.id for n in self.client.networks.list(filters={"label": label})]
        return [i for i in ids if i]

    def forgotten(self) -> set[str]:
        """Ids of containerd containers Docker has forgotten (see `_containerd`)."""
        return _containerd.forgotten(self._all_container_ids)

    def _our_containers(self, owner: str | None = None) -> list[Container]:
        # Sparse: the listing only, so a container removed meanwhile is no error.
        label = LABEL if owner is None else f"{OWNER_LABEL}={owner}"
        return self.client.containers.list(all=True, sparse=True, filters={"label": label})

    def _all_container_ids(self) -> set[str]:
        return {str(c.id) for c in self.client.containers.list(all=True, sparse=True)}
