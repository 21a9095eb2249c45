"""Shared fixtures: a real Docker engine and the real sandbox images.

A missing engine or image is a failure with the command that fixes it, never
a skip: these tests are the proof that the sandbox holds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import docker
import pytest
from hostnet import HostListener
from worksample.sandboxes import DockerBackend, EngineUnavailable, connect_engine, find_image
from worksample.sandboxes._docker import owner_id


@pytest.fixture(scope="session")
def engine() -> docker.DockerClient:
    try:
        return connect_engine(timeout=60)
    except EngineUnavailable as exc:
        pytest.fail(f"{exc}\nRun scripts/test (it starts the engine) or start Docker yourself.")


@pytest.fixture(scope="session")
def ml_image(engine: docker.DockerClient) -> str:
    return _image(engine, "ml")


@pytest.fixture(scope="session")
def ai_image(engine: docker.DockerClient) -> str:
    return _image(engine, "ai")


def _image(engine: docker.DockerClient, track: str) -> str:
    info = find_image(engine, track)
    if info is None:
        pytest.fail(f"the {track} image is missing: run `worksample images build --track {track}`")
    return info.tag


@pytest.fixture(scope="session")
def backend(engine: docker.DockerClient) -> Iterator[DockerBackend]:
    backend = DockerBackend(engine)
    yield backend
    # Nothing of this test run may outlive it: containers, networks, volumes.
    # Killed sandboxes are removed by the engine (AutoRemove): give it a moment.
    me = owner_id()
    for _ in range(100):
        if not engine.containers.list(all=True, filters={"label": "org.worksample.owner=" + me}):
            break
        time.sleep(0.1)
    left = [
        c.name
        for c in engine.containers.list(all=True, filters={"label": "org.worksample.owner=" + me})
    ]
    left += [n.name for n in engine.networks.list(filters={"label": "org.worksample.owner=" + me})]
    left += [v.name for v in engine.volumes.list(filters={"label": "org.worksample.sandbox"})]
    assert not left, f"sandbox resources left behind: {left}"


@pytest.fixture
def host_listener() -> Iterator[HostListener]:
    listener = HostListener()
    yield listener
    listener.accepted()
