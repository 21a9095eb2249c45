"""The AI track's per-grading networks: internal bridges kept away from the host."""

from __future__ import annotations

import uuid

import docker
import docker.errors
from worksample.sandboxes._hostfw import block_host_input, unblock_host_input
from worksample.sandboxes._owner import owner_labels

PREFIX = "ws-net-"
BRIDGE_PREFIX = "wsn"


def create_internal_network(client: docker.DockerClient, *, isolate_host: bool = True) -> str:
    """An internal bridge network: its containers reach each other, nothing else.

    Its bridge interface is named after it (`wsn` + 12 hex digits), so that
    with `isolate_host` the host's INPUT from it can be dropped (see _hostfw).
    """
    suffix = uuid.uuid4().hex[:12]
    name = PREFIX + suffix
    client.networks.create(
        name,
        driver="bridge",
        internal=True,
        options={"com.docker.network.bridge.name": BRIDGE_PREFIX + suffix},
        labels=owner_labels(),
    )
    if isolate_host:
        try:
            block_host_input(BRIDGE_PREFIX + suffix)
        except Exception:
            remove_network(client, name)
            raise
    return name


def remove_network(client: docker.DockerClient, name: str) -> None:
    try:
        client.networks.get(name).remove()
    except docker.errors.NotFound:
        pass
    if name.startswith(PREFIX):
        unblock_host_input(BRIDGE_PREFIX + name.removeprefix(PREFIX))
