"""What one command or function call in a sandbox produced."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class RunResult(BaseModel):
    """One command in the sandbox, as the trusted side saw it."""

    model_config = ConfigDict(frozen=True)

    argv: list[str]
    exit_code: int | None
    """None when the command was killed for its timeout or never finished."""
    signal: int | None = None
    stdout: bytes
    stderr: bytes
    stdout_truncated: bool
    stderr_truncated: bool
    timed_out: bool
    oom_killed: bool
    wall_s: float
    peak_memory_bytes: int | None
    """Peak of the whole sandbox during the call; None where it cannot be read."""
    sandbox_lost: bool = False
    """The container had to be killed (or died): later calls start a fresh one."""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def text(self, stream: str = "stdout") -> str:
        data: bytes = getattr(self, stream)
        return data.decode("utf-8", errors="replace")


class CallError(BaseModel):
    """A candidate function raised, exited, or returned something that is not JSON."""

    model_config = ConfigDict(frozen=True)

    type: str
    message: str
    traceback: str = ""


class CallOutcome(BaseModel):
    """A `module:function` call across the boundary: a JSON value or an error."""

    model_config = ConfigDict(frozen=True)

    target: str
    value: Any = None
    error: CallError | None = None
    run: RunResult

    @property
    def ok(self) -> bool:
        return self.error is None
