"""Where a grading runs candidate code: one typed choice, one auto-detection.

`SandboxOptions` travels from the settings and the command line through
`grade()` and the graders' plugin to every container a grading starts (the
candidate's and, for the AI track, the mock LLM's), so a runtime asked for
is the runtime used, or the grading fails saying why; it never falls back.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from worksample.sandboxes._engine import Engine
from worksample.sandboxes._errors import EngineUnavailable
from worksample.sandboxes._local import LocalBackend
from worksample.sandboxes._session import SandboxBackend

BackendName = Literal["docker", "local"]


class SandboxOptions(BaseModel):
    """The sandbox part of a grading's options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: BackendName = Field(
        "docker", description="`docker`: hardened containers; `local`: NOT a sandbox."
    )
    runtime: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="OCI runtime of every container (e.g. `runsc`); None: the engine's default.",
    )


def detect_backend() -> BackendName:
    """`docker` when an engine answers, else `local`. The only auto-detection."""
    try:
        Engine.connect(timeout=5)
    except EngineUnavailable:
        return "local"
    return "docker"


def open_backend(options: SandboxOptions, engine: Engine | None = None) -> SandboxBackend:
    """The backend `options` ask for: the local one, or the engine's under the runtime.

    Raises `SandboxUnavailable` when the engine is missing or lacks the runtime;
    never substitutes another backend or runtime.
    """
    if options.backend == "local":
        return LocalBackend()
    return (engine or Engine.connect()).backend(options.runtime)
