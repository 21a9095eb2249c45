"""The trusted client of the in-container harness, whatever carries its stream.

`HarnessSession` implements the whole `SandboxSession` protocol on top of the
harness's framed JSON messages; a backend only says how to start the harness
(`_start`) and how to throw it away (`_discard`).
"""

from __future__ import annotations

import base64
import io
import json
import os
import tarfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, Self

from worksample.sandboxes._cgroup import MemoryCgroup
from worksample.sandboxes._errors import SandboxError, SandboxUnavailable
from worksample.sandboxes._limits import Limits
from worksample.sandboxes._result import CallError, CallOutcome, RunResult
from worksample.sandboxes._stream import HarnessStream, ProtocolError, StreamClosed, StreamTimeout

HARNESS = "/opt/worksample/ws_harness.py"
BASE_ENV = {
    "PATH": "/opt/venv/bin:/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONUNBUFFERED": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}
# Time the trusted side allows the harness beyond a call's own timeout to kill
# the call's processes and answer; past it the whole sandbox is thrown away.
GRACE_S = 5.0
START_TIMEOUT_S = 30.0


class HarnessSession:
    """A sandbox session driven through the harness protocol."""

    def __init__(self, *, limits: Limits, env: Mapping[str, str] | None = None) -> None:
        self.limits = limits
        self.env = dict(env or {})
        self.restarts = 0
        self._stream: HarnessStream | None = None
        self._cgroup: MemoryCgroup | None = None
        self._puts: list[tuple[str, bytes]] = []
        self._seq = 0
        self._closed = False

    # ------------------------------------------------------------ for backends
    def _start(self) -> None:
        raise NotImplementedError

    def _discard(self) -> None:
        raise NotImplementedError

    def _harness_argv(self) -> list[str]:
        return ["python3", "-I", HARNESS, "call"]

    def _lost_to_oom(self) -> bool:
        """Whether the sandbox just lost was killed whole for its memory limit."""
        return False

    def _map_path(self, path: str) -> str:
        return path

    def _base_env(self) -> dict[str, str]:
        return dict(BASE_ENV)

    def _greet(self, stream: HarnessStream) -> None:
        self._stream = stream
        hello = stream.recv(time.monotonic() + START_TIMEOUT_S)
        if hello.get("hello") != "ws-harness":
            raise SandboxError(f"unexpected greeting from the sandbox: {hello!r}")

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        try:
            self._start()
        except SandboxUnavailable:
            self._discard()
            raise
        except Exception as exc:
            self._discard()
            raise SandboxUnavailable(f"the sandbox could not start: {exc}") from exc

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._discard()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _ensure_running(self) -> HarnessStream:
        if self._closed:
            raise SandboxError("the sandbox session is closed")
        if self._stream is None:
            # The container was lost (killed for a timeout, or it died): start a
            # fresh one and put back what was put before, so later calls see the
            # same inputs. Anything the candidate wrote since is gone, honestly.
            self.restarts += 1
            self.start()
            for dest, tar in self._puts:
                self._request(
                    {"op": "put", "dest": self._map_path(dest), "tar_b64": _b64(tar)}, 120.0
                )
        assert self._stream is not None
        return self._stream

    def _request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        stream = self._ensure_running()
        self._seq += 1
        message = {**message, "id": self._seq}
        try:
            stream.send(message)
            reply = stream.recv(time.monotonic() + timeout)
        except (StreamTimeout, StreamClosed, ProtocolError, OSError):
            self._discard()
            raise
        if reply.get("id") != self._seq:
            self._discard()
            raise ProtocolError(f"reply to request {reply.get('id')!r}, expected {self._seq}")
        return reply

    # ------------------------------------------------------------ files
    def put_files(self, files: Mapping[str, bytes], dest: str = "/work") -> None:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:") as tar:
            for name, data in sorted(files.items()):
                rel = PurePosixPath(name)
                if rel.is_absolute() or ".." in rel.parts or not rel.parts:
                    raise SandboxError(f"refusing file name {name!r}: must be relative, no '..'")
                info = tarfile.TarInfo(str(rel))
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
        self._put_tar(dest, buf.getvalue())

    def put_dir(self, source: Path, dest: str = "/work") -> None:
        self.put_files(read_tree(source), dest)

    def _put_tar(self, dest: str, tar: bytes) -> None:
        reply = self._request(
            {"op": "put", "dest": self._map_path(dest), "tar_b64": _b64(tar)}, 120.0
        )
        if not reply.get("ok"):
            raise SandboxError(f"could not put files in {dest}: {reply.get('error')}")
        self._puts.append((dest, tar))

    def get_file(self, path: str, max_bytes: int = 64 << 20) -> bytes:
        reply = self._request(
            {"op": "get", "path": self._map_path(path), "max_bytes": max_bytes}, 120.0
        )
        if not reply.get("ok"):
            if reply.get("missing"):
                raise FileNotFoundError(path)
            raise SandboxError(f"could not read {path}: {reply.get('error')}")
        if reply.get("truncated"):
            raise SandboxError(f"{path} is larger than {max_bytes} bytes")
        return base64.b64decode(reply["data_b64"])

    # ------------------------------------------------------------ running
    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        stdin: bytes = b"",
        env: Mapping[str, str] | None = None,
        cwd: str = "/work",
    ) -> RunResult:
        reply, wall, peak, oom_host, lost = self._run_raw(
            argv, timeout=timeout, stdin=stdin, env=env, cwd=cwd, result_pipe=False
        )
        return _run_result(list(argv), reply, wall, peak, oom_host, lost)

    def call(
        self,
        target: str,
        *args: Any,
        timeout: float | None = None,
        cwd: str = "/work",
        **kwargs: Any,
    ) -> CallOutcome:
        try:
            request = json.dumps({"target": target, "args": list(args), "kwargs": kwargs})
        except (TypeError, ValueError) as exc:
            raise SandboxError(f"call arguments must be JSON: {exc}") from exc
        argv = self._harness_argv()
        reply, wall, peak, oom_host, lost = self._run_raw(
            argv, timeout=timeout, stdin=request.encode(), env=None, cwd=cwd, result_pipe=True
        )
        run = _run_result([target], reply, wall, peak, oom_host, lost)
        return _call_outcome(target, run, reply)

    def _run_raw(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None,
        stdin: bytes,
        env: Mapping[str, str] | None,
        cwd: str,
        result_pipe: bool,
    ) -> tuple[dict[str, Any], float, int | None, bool, bool]:
        if not argv or not all(isinstance(a, str) for a in argv):
            raise SandboxError("argv must be a non-empty list of strings")
        timeout = self.limits.call_timeout_s if timeout is None else timeout
        self._ensure_running()
        cgroup = self._cgroup
        oom_before = cgroup.oom_kills() if cgroup else None
        if cgroup:
            cgroup.reset_peak()
        message = {
            "op": "run",
            "argv": [self._map_path(a) for a in argv] if not result_pipe else list(argv),
            "timeout": timeout,
            "stdin_b64": _b64(stdin),
            "env": {**self._base_env(), **self.env, **(env or {})},
            "cwd": self._map_path(cwd),
            "max_output": self.limits.output_bytes,
            "result_pipe": result_pipe,
        }
        started = time.monotonic()
        lost = False
        try:
            reply = self._request(message, timeout + GRACE_S)
        except StreamTimeout:
            reply = {"ok": True, "exit_code": None, "timed_out": True}
            lost = True
        except (StreamClosed, ProtocolError, OSError) as exc:
            reply = {"ok": True, "exit_code": None, "timed_out": False, "lost_reason": str(exc)}
            lost = True
        wall = time.monotonic() - started
        peak = cgroup.peak_bytes() if cgroup else None
        oom_after = cgroup.oom_kills() if cgroup else None
        oom_host = oom_before is not None and oom_after is not None and oom_after > oom_before
        if lost:
            oom_host = oom_host or self._lost_to_oom()
        if not reply.get("ok"):
            raise SandboxError(str(reply.get("error")))
        return reply, wall, peak, oom_host, lost


def read_tree(source: Path) -> dict[str, bytes]:
    """Regular files under `source`, by relative POSIX path. Links are refused."""
    files: dict[str, bytes] = {}
    root = source.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in list(dirnames) + filenames:
            path = Path(dirpath, name)
            if path.is_symlink():
                rel = path.relative_to(root)
                raise SandboxError(f"refusing symbolic link {rel} -> {os.readlink(path)}")
        for name in filenames:
            path = Path(dirpath, name)
            if not path.is_file():
                raise SandboxError(f"refusing special file {path.relative_to(root)}")
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _run_result(
    argv: list[str],
    reply: dict[str, Any],
    wall: float,
    peak: int | None,
    oom_host: bool,
    lost: bool,
) -> RunResult:
    stdout = base64.b64decode(reply.get("stdout_b64", ""))
    stderr = base64.b64decode(reply.get("stderr_b64", ""))
    signal = reply.get("signal")
    return RunResult(
        argv=argv,
        exit_code=reply.get("exit_code"),
        signal=signal if isinstance(signal, int) else None,
        stdout=stdout,
        stderr=stderr,
        stdout_truncated=int(reply.get("stdout_total", 0)) > len(stdout),
        stderr_truncated=int(reply.get("stderr_total", 0)) > len(stderr),
        timed_out=bool(reply.get("timed_out")),
        # The host's cgroup counter is the witness; the harness's own claim is
        # used only where the host cannot see the cgroup.
        oom_killed=oom_host or (peak is None and bool(reply.get("oom_killed"))),
        wall_s=wall,
        peak_memory_bytes=peak,
        sandbox_lost=lost,
    )


def _call_outcome(target: str, run: RunResult, reply: dict[str, Any]) -> CallOutcome:
    def failed(kind: str, message: str, tb: str = "") -> CallOutcome:
        return CallOutcome(
            target=target, error=CallError(type=kind, message=message, traceback=tb), run=run
        )

    if run.timed_out:
        return failed("Timeout", "the call did not finish within its timeout")
    if run.oom_killed:
        return failed("OutOfMemory", "the call was killed for exceeding the memory limit")
    if run.sandbox_lost:
        return failed("SandboxLost", "the sandbox stopped during the call")
    raw = base64.b64decode(reply.get("result_b64", ""))
    if reply.get("result_truncated"):
        return failed("ResultTooLarge", "the result exceeds the size the grader accepts")
    if not raw:
        return failed(
            "NoResult",
            f"the function's process ended without returning (exit code {run.exit_code})",
        )
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return failed("UnserialisableResult", f"the result is not valid JSON: {exc}"[:500])
    if not isinstance(payload, dict) or not isinstance(payload.get("ok"), bool):
        return failed("UnserialisableResult", "the result is not in the harness's format")
    if payload["ok"]:
        return CallOutcome(target=target, value=payload.get("value"), run=run)
    return failed(
        str(payload.get("type", "Error"))[:200],
        str(payload.get("message", ""))[:4000],
        str(payload.get("traceback", ""))[:8000],
    )
