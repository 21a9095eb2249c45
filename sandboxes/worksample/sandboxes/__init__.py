"""Sandboxes: hardened containers that run candidate code for the trusted grader.

The public surface is below; everything else is private. Only `_docker`,
`_images` and `_llm_service` talk to the Docker engine.
"""

from worksample.sandboxes._docker import DockerBackend, DockerSession, connect_engine
from worksample.sandboxes._errors import EngineUnavailable, SandboxError, SandboxUnavailable
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
from worksample.sandboxes._probe import Check, run_probe
from worksample.sandboxes._result import CallError, CallOutcome, RunResult
from worksample.sandboxes._session import SandboxBackend, SandboxSession

__all__ = [
    "IMAGE_NAMES",
    "MOCKLLM",
    "TRACKS",
    "UNSANDBOXED_WARNING",
    "CallError",
    "CallOutcome",
    "Check",
    "DockerBackend",
    "DockerSession",
    "EngineUnavailable",
    "ImageInfo",
    "LLMEndpoints",
    "Limits",
    "LocalBackend",
    "LocalMockLLM",
    "MockLLMService",
    "RunResult",
    "SandboxBackend",
    "SandboxError",
    "SandboxSession",
    "SandboxUnavailable",
    "build_image",
    "connect_engine",
    "find_image",
    "run_probe",
]
