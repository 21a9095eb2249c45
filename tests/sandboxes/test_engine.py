"""The engine facade: its facts, its images, its backends, one per runtime."""

from __future__ import annotations

import socket
import uuid

import pytest
import worksample.sandboxes._images as _images
from worksample.sandboxes import (
    DockerBackend,
    Engine,
    ImageMissing,
    Limits,
    LocalBackend,
    SandboxOptions,
    SandboxUnavailable,
    open_backend,
)
from worksample.sandboxes._owner import LABEL, OWNER_LABEL

pytestmark = pytest.mark.docker

LIMITS = Limits(memory_mb=256, call_timeout_s=20)


def test_info_names_the_runtimes_and_the_default(sandbox_engine: Engine) -> None:
    info = sandbox_engine.info()
    assert "runc" in info.runtimes and info.default_runtime in info.runtimes
    assert info.server_version and info.docker_root_dir.startswith("/")
    runc = info.runtime("runc")
    assert runc is not None and not runc.gvisor and runc.gvisor_network is None
    assert info.network_limit(None) is None


def test_a_missing_image_says_how_to_build_it(
    sandbox_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Inputs that no built image was made of: what a changed requirements.txt looks like.
    monkeypatch.setattr(_images, "inputs_hash", lambda track: "0" * 64)
    assert sandbox_engine.find_image("ml") is None
    with pytest.raises(ImageMissing) as caught:
        sandbox_engine.require_image("ml")
    assert str(caught.value) == "no current ml image: run `worksample images build --track ml`"
    assert isinstance(caught.value, SandboxUnavailable)


def test_current_image_is_found(sandbox_engine: Engine, ml_image: str) -> None:
    assert sandbox_engine.require_image("ml").tag == ml_image


def test_an_unregistered_runtime_is_refused_naming_the_ones_there(sandbox_engine: Engine) -> None:
    with pytest.raises(SandboxUnavailable) as caught:
        sandbox_engine.backend("no-such-runtime")
    message = str(caught.value)
    assert "'no-such-runtime' is not registered" in message and "runc" in message


def test_open_backend_gives_what_the_options_say(sandbox_engine: Engine) -> None:
    assert isinstance(open_backend(SandboxOptions(backend="local")), LocalBackend)
    docker = open_backend(SandboxOptions(backend="docker"), sandbox_engine)
    assert isinstance(docker, DockerBackend) and docker.runtime is None
    with pytest.raises(SandboxUnavailable, match="not registered"):
        open_backend(SandboxOptions(runtime="no-such-runtime"), sandbox_engine)


def test_sessions_say_what_they_run_under(
    sandbox_engine: Engine, ml_image: str, nothing_left_behind: None
) -> None:
    with sandbox_engine.backend().open_session(image=ml_image, limits=LIMITS) as s:
        assert s.runtime == sandbox_engine.info().default_runtime == "runc"
    with sandbox_engine.backend("runc").open_session(image=ml_image, limits=LIMITS) as s:
        assert s.runtime == "runc"
    with LocalBackend().open_session(limits=LIMITS) as local:
        assert local.runtime == "local"


def test_leftovers_of_a_dead_owner_are_removed(
    sandbox_engine: Engine, ml_image: str, nothing_left_behind: None
) -> None:
    """A container and a network whose owner (host:pid) is dead go; a live one's stay."""
    dead = {LABEL: "1", OWNER_LABEL: f"{socket.gethostname()}:{2**22 + 1}"}  # > pid_max
    client = sandbox_engine.client
    with sandbox_engine.backend().open_session(image=ml_image, limits=LIMITS) as live:
        orphan = client.api.create_container(ml_image, command=["true"], labels=dead)["Id"]
        network = client.networks.create(f"ws-net-{uuid.uuid4().hex[:12]}", labels=dead)
        assert sandbox_engine.remove_leftovers() >= 2
        ours = sandbox_engine.ours()
        assert orphan not in ours and network.id not in ours
        assert live.container_id in ours
