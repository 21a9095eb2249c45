"""Sandboxes: hardened containers that run candidate code for the trusted grader.

The public surface is below; everything else is private. Only `_docker` and
`_images` talk to the Docker engine.
"""

from worksample.sandboxes._docker import DockerBackend, DockerSession, connect_engine
from worksample.sandboxes._errors import EngineUnavailable, SandboxError
from worksample.sandboxes._images import TRACKS, ImageInfo, build_image, find_image
from worksample.sandboxes._limits import Limits
from worksample.sandboxes._local import UNSANDBOXED_WARNING, LocalBackend
from worksample.sandboxes._probe import Check, run_probe
from worksample.sandboxes._result import CallError, CallOutcome, RunResult
from worksample.sandboxes._session import SandboxBackend, SandboxSession

__all__ = [
    "TRACKS",
    "UNSANDBOXED_WARNING",
    "CallError",
    "CallOutcome",
    "Check",
    "DockerBackend",
    "DockerSession",
    "EngineUnavailable",
    "ImageInfo",
    "Limits",
    "LocalBackend",
    "RunResult",
    "SandboxBackend",
    "SandboxError",
    "SandboxSession",
    "build_image",
    "connect_engine",
    "find_image",
    "run_probe",
]
