"""Sandboxes: hardened containers that run candidate code for the trusted grader.

The public surface is below; everything else is private. Everything outside
this package reaches the Docker engine through `Engine` (and the backends it
makes); only this package imports `docker`. `connect_engine`, `find_image`,
`build_image` and `DockerBackend(client)` remain for callers not yet on `Engine`.
"""

from worksample.sandboxes._docker import DockerBackend, DockerSession
from worksample.sandboxes._engine import Engine, EngineInfo, RuntimeConfig, connect_engine
from worksample.sandboxes._errors import (
    EngineUnavailable,
    ImageMissing,
    SandboxError,
    SandboxUnavailable,
)
from worksample.sandboxes._images import (
    IMAGE_NAMES,
    MOCKLLM,
    TRACKS,
    ImageInfo,
    build_image,
    find_image,
)
from worksample.sandboxes._limits import Limits
from worksample.sandboxes._llm_local import LocalMockLLM
from worksample.sandboxes._llm_service import LLMEndpoints, MockLLMService
from worksample.sandboxes._local import UNSANDBOXED_WARNING, LocalBackend
from worksample.sandboxes._options import (
    BackendName,
    SandboxOptions,
    detect_backend,
    open_backend,
)
from worksample.sandboxes._probe import Check, probe_network, run_probe
from worksample.sandboxes._result import CallError, CallOutcome, RunResult
from worksample.sandboxes._session import SandboxBackend, SandboxSession

__all__ = [
    "IMAGE_NAMES",
    "MOCKLLM",
    "TRACKS",
    "UNSANDBOXED_WARNING",
    "BackendName",
    "CallError",
    "CallOutcome",
    "Check",
    "DockerBackend",
    "DockerSession",
    "Engine",
    "EngineInfo",
    "EngineUnavailable",
    "ImageInfo",
    "ImageMissing",
    "LLMEndpoints",
    "Limits",
    "LocalBackend",
    "LocalMockLLM",
    "MockLLMService",
    "RunResult",
    "RuntimeConfig",
    "SandboxBackend",
    "SandboxError",
    "SandboxOptions",
    "SandboxSession",
    "SandboxUnavailable",
    "build_image",
    "connect_engine",
    "detect_backend",
    "find_image",
    "open_backend",
    "probe_network",
    "run_probe",
]
