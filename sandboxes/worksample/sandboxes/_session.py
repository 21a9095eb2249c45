"""The sandbox backend protocol: what graders may ask of any backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from worksample.sandboxes._limits import Limits
from worksample.sandboxes._result import CallOutcome, RunResult


class SandboxSession(Protocol):
    """One sandbox for one grading: files in, commands and calls, files out."""

    limits: Limits
    runtime: str
    """What the code runs under: the engine's OCI runtime (`runc`, `runsc`, ...), or `local`."""

    def put_files(self, files: Mapping[str, bytes], dest: str = "/work") -> None: ...

    def put_dir(self, source: Path, dest: str = "/work") -> None: ...

    def get_file(self, path: str, max_bytes: int = 64 << 20) -> bytes: ...

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        stdin: bytes = b"",
        env: Mapping[str, str] | None = None,
        cwd: str = "/work",
    ) -> RunResult: ...

    def call(
        self,
        target: str,
        *args: Any,
        timeout: float | None = None,
        cwd: str = "/work",
        **kwargs: Any,
    ) -> CallOutcome: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class SandboxBackend(Protocol):
    """Starts sessions. The Docker backend is the real one; `LocalBackend` is not a sandbox."""

    name: str
    isolated: bool

    def open_session(
        self,
        *,
        image: str,
        limits: Limits,
        network: str | None = None,
        env: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> SandboxSession: ...
