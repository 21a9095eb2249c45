"""Sandbox tests' fixtures: the engine facade and its gVisor backends."""

from __future__ import annotations

import time
from collections.abc import Iterator

import docker
import pytest
from sandbox_runtimes import GVISOR, GVISOR_NET, runtime_backend
from worksample.sandboxes import DockerBackend, Engine
from worksample.sandboxes._owner import owner_id


@pytest.fixture(scope="session")
def sandbox_engine(engine: docker.DockerClient) -> Engine:
    return Engine(engine)


@pytest.fixture(scope="session")
def nothing_left_behind(sandbox_engine: Engine) -> Iterator[None]:
    """After the sandbox tests: no container or network of ours, and no task
    that Docker forgot in its containerd (what a failed gVisor start leaves)."""
    yield

    def left() -> list[str]:
        return sandbox_engine.ours(owner=owner_id()) + sorted(sandbox_engine.forgotten())

    deadline = time.monotonic() + 10  # killed sandboxes are removed by the engine
    while left() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left(), f"left behind: {left()}"


@pytest.fixture(scope="session")
def gvisor_backend(sandbox_engine: Engine, nothing_left_behind: None) -> DockerBackend:
    """gVisor without a network."""
    return runtime_backend(sandbox_engine, GVISOR)


@pytest.fixture(scope="session")
def gvisor_net_backend(sandbox_engine: Engine, nothing_left_behind: None) -> DockerBackend:
    """gVisor whose containers can join an internal network (the AI track's)."""
    return runtime_backend(sandbox_engine, GVISOR_NET)
