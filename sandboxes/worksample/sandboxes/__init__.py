"""Sandboxes: hardened containers that run candidate code for the trusted grader.

The public surface is below; everything else is private. Only `_docker`
imports the `docker` SDK.
"""

from worksample.sandboxes._errors import EngineUnavailable, SandboxError
from worksample.sandboxes._limits import Limits
from worksample.sandboxes._local import UNSANDBOXED_WARNING, LocalBackend
from worksample.sandboxes._result import CallError, CallOutcome, RunResult
from worksample.sandboxes._session import SandboxBackend, SandboxSession

__all__ = [
    "UNSANDBOXED_WARNING",
    "CallError",
    "CallOutcome",
    "EngineUnavailable",
    "Limits",
    "LocalBackend",
    "RunResult",
    "SandboxBackend",
    "SandboxError",
    "SandboxSession",
]
