"""What Docker forgets: containerd tasks left by a container whose start failed.

Seen with gVisor on Docker 20.10: when `runsc` fails to start a container (a
missing command, a network mode the kernel refuses), Docker reports the error
and removes its own record (AutoRemove, or our forced removal), but the task
stays in Docker's containerd, and with it a shim, `runsc-gofer` and
`runsc-sandbox`. `docker ps -a` knows nothing of them, so clean-up by label
cannot find them. Docker keeps its containers in containerd's namespace `moby`;
a container there that Docker does not know is such a leftover.

`ctr` (shipped with containerd) is the client, and `runsc delete --force`
stops a sandbox stuck half-started; without `ctr`, or without the rights to
its socket, nothing is done. Only for an engine on this host.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

NAMESPACE = "moby"
# Where Docker 20.10's containerd shim keeps the OCI runtimes' state (runc's and runsc's).
RUNSC_ROOT = Path("/var/run/docker/runtime-runc") / NAMESPACE
# Docker's own containerd (Debian's docker.io), then a system containerd (docker-ce).
SOCKETS = (
    Path("/var/run/docker/containerd/containerd.sock"),
    Path("/run/containerd/containerd.sock"),
)


def _ctr() -> list[str] | None:
    ctr = shutil.which("ctr")
    host = os.environ.get("DOCKER_HOST", "")
    if ctr is None or (host and not host.startswith("unix://")):
        return None
    for sock in SOCKETS:
        if sock.exists():
            return [ctr, "--address", str(sock), "--namespace", NAMESPACE]
    return None


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


def delete(container_id: str) -> bool:
    """Kill and delete the containerd task and container `container_id`, if any.

    True when containerd had it (and no longer has it).
    """
    ctr = _ctr()
    if ctr is None:
        return False
    runsc = shutil.which("runsc")
    if runsc is not None and RUNSC_ROOT.is_dir():
        # A task runsc failed to start can stay "created", which neither
        # containerd nor `runsc kill` can stop; runsc's own forced delete can
        # (for a container of another runtime it finds nothing and does nothing).
        _run([runsc, "--root", str(RUNSC_ROOT), "delete", "--force", container_id])
    _run([*ctr, "tasks", "delete", "--force", container_id])
    return _run([*ctr, "containers", "delete", container_id]).returncode == 0


def forgotten(known_to_docker: Callable[[], set[str]]) -> set[str]:
    """Ids of the namespace's containers that Docker does not know.

    containerd is listed before Docker: Docker records a container before it
    creates it in containerd, so one being started right now is always known.
    """
    ctr = _ctr()
    if ctr is None:
        return set()
    listing = _run([*ctr, "containers", "list", "--quiet"])
    if listing.returncode != 0:
        return set()
    in_containerd = set(listing.stdout.split())
    if not in_containerd:
        return set()
    return in_containerd - known_to_docker()
