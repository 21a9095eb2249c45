"""In-container harness: the sandbox's main process (under --init).

Baked into every sandbox image as /opt/worksample/ws_harness.py and started as
``python3 -I -S /opt/worksample/ws_harness.py serve``. It speaks a framed JSON
protocol on stdin/stdout with the trusted side (the runner, through the Docker
attach stream) and runs every candidate command as a child process.

Everything here runs inside the sandbox with the candidate's uid, so nothing
here is trusted: the runner measures time, memory and OOM from outside, and a
candidate who breaks this process only breaks its own session. The harness is
stdlib-only and must stay importable by any Python >= 3.9 in an image.

Frames, both directions: ``WSH1 <length>\\n`` followed by <length> bytes of JSON.
"""

from __future__ import annotations

import base64
import ctypes
import io
import json
import os
import selectors
import signal
import subprocess
import sys
import time
import traceback
from typing import IO, Any

MAGIC = b"WSH1 "
MAX_FRAME = 256 * 1024 * 1024
CALL_RESULT_FD_ENV = "WS_HARNESS_RESULT_FD"
DRAIN_AFTER_EXIT_S = 0.2


# --------------------------------------------------------------------------- frames
def read_frame(stream: IO[bytes]) -> dict[str, Any] | None:
    header = stream.readline(64)
    if not header:
        return None
    if not header.startswith(MAGIC) or not header.endswith(b"\n"):
        raise ValueError(f"bad frame header {header[:40]!r}")
    length = int(header[len(MAGIC) : -1])
    if not 0 <= length <= MAX_FRAME:
        raise ValueError(f"frame length {length} out of range")
    body = stream.read(length)
    if len(body) != length:
        return None
    message: dict[str, Any] = json.loads(body)
    return message


def write_frame(stream: IO[bytes], message: dict[str, Any]) -> None:
    body = json.dumps(message, separators=(",", ":")).encode()
    stream.write(MAGIC + str(len(body)).encode() + b"\n" + body)
    stream.flush()


# --------------------------------------------------------------------------- helpers
def make_undumpable() -> None:
    """Stop same-uid processes from ptracing us or opening /proc/<pid>/fd/1."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except OSError:
        pass


def other_pids() -> list[int]:
    me = os.getpid()
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            pid = int(name)
            if pid not in (1, me):
                pids.append(pid)
    return pids


LOCAL_MODE = False  # set by `serve --local`: never signal anything but our calls


def reap_all(pgid: int | None = None) -> int:
    """SIGKILL every process but init and this one; return how many were left.

    In the sandbox every other process is the candidate's, so all of them go.
    In local mode (no sandbox, the candidate's own machine) only the call's
    process group is killed: kill(-1) there would hit the user's processes.
    """
    if LOCAL_MODE:
        if pgid is not None:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return 0
    left = 0
    for _ in range(50):
        pids = other_pids()
        if not pids:
            break
        left = max(left, len(pids))
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        # Collect our own zombies so /proc empties; init collects the rest.
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        time.sleep(0.002)
    return left


def oom_kill_count() -> int | None:
    for path, key in (
        ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill"),
        ("/sys/fs/cgroup/memory.events", "oom_kill"),
    ):
        try:
            with open(path) as f:
                for line in f:
                    name, _, value = line.partition(" ")
                    if name == key:
                        return int(value)
        except OSError:
            continue
    return None


class Capped:
    """Keeps the first `cap` bytes of a stream and counts the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.buf = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.cap - len(self.buf)
        if room > 0:
            self.buf += data[:room]

    @property
    def truncated(self) -> bool:
        return self.total > len(self.buf)


# --------------------------------------------------------------------------- ops
def op_run(req: dict[str, Any]) -> dict[str, Any]:
    argv = req["argv"]
    cap = int(req.get("max_output", 1 << 20))
    timeout = float(req.get("timeout", 60))
    stdin_data = base64.b64decode(req.get("stdin_b64", ""))
    env = req.get("env") or {}
    cwd = req.get("cwd") or "/work"
    result_fd = None
    pass_fds: tuple[int, ...] = ()
    result_r = None
    if req.get("result_pipe"):
        result_r, result_fd = os.pipe()
        env = {**env, CALL_RESULT_FD_ENV: str(result_fd)}
        pass_fds = (result_fd,)
    oom_before = oom_kill_count()
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            pass_fds=pass_fds,
            start_new_session=True,
        )
    except OSError as exc:
        if result_fd is not None:
            os.close(result_fd)
            os.close(result_r)  # type: ignore[arg-type]
        return {"ok": False, "error": f"cannot start {argv[0]!r}: {exc.strerror or exc}"}
    if result_fd is not None:
        os.close(result_fd)
    out, err, res = Capped(cap), Capped(cap), Capped(int(req.get("max_result", 16 << 20)))
    sel = selectors.DefaultSelector()
    assert proc.stdout and proc.stderr and proc.stdin
    sel.register(proc.stdout, selectors.EVENT_READ, out)
    sel.register(proc.stderr, selectors.EVENT_READ, err)
    if result_r is not None:
        sel.register(result_r, selectors.EVENT_READ, res)
    # Feed stdin in a thread-free way: small inputs go straight into the pipe
    # buffer; larger ones are written as the child reads.
    pending = memoryview(stdin_data)
    if pending:
        os.set_blocking(proc.stdin.fileno(), False)
        sel.register(proc.stdin, selectors.EVENT_WRITE, None)
    else:
        proc.stdin.close()
    deadline = started + timeout
    timed_out = False
    exited_at = None
    while sel.get_map():
        now = time.monotonic()
        if exited_at is None and proc.poll() is not None:
            exited_at = now
        # Children that outlive the command keep its pipes open; once the
        # command itself is gone, read what is already there and stop.
        if exited_at is not None and now - exited_at > DRAIN_AFTER_EXIT_S:
            break
        remaining = deadline - now
        if remaining <= 0:
            timed_out = True
            break
        for key, _ in sel.select(timeout=min(remaining, 0.05)):
            if key.data is None:
                try:
                    n = os.write(key.fd, pending[:65536])
                    pending = pending[n:]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    pending = memoryview(b"")
                if not pending:
                    sel.unregister(key.fileobj)
                    proc.stdin.close()
                continue
            chunk = os.read(key.fd, 65536)
            if chunk:
                key.data.feed(chunk)
            else:
                sel.unregister(key.fileobj)
    if not timed_out:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
    wall = time.monotonic() - started
    # Kill the call's whole tree and anything it left behind: processes that
    # outlive a call (daemons, setsid escapes) are never allowed to linger.
    leftovers = reap_all(proc.pid)
    try:
        returncode = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        returncode = None
    for f in (proc.stdout, proc.stderr):
        f.close()
    if not proc.stdin.closed:
        try:
            proc.stdin.close()
        except OSError:
            pass
    if result_r is not None:
        os.close(result_r)
    oom_after = oom_kill_count()
    oom = (
        returncode == -signal.SIGKILL
        and oom_before is not None
        and oom_after is not None
        and oom_after > oom_before
    )
    reply = {
        "ok": True,
        "exit_code": None if timed_out else returncode,
        "signal": -returncode if (returncode is not None and returncode < 0) else None,
        "stdout_b64": base64.b64encode(bytes(out.buf)).decode(),
        "stderr_b64": base64.b64encode(bytes(err.buf)).decode(),
        "stdout_total": out.total,
        "stderr_total": err.total,
        "timed_out": timed_out,
        "oom_killed": oom,
        "inner_wall_s": wall,
        "leftover_processes": leftovers if not timed_out else 0,
    }
    if result_r is not None:
        reply["result_b64"] = base64.b64encode(bytes(res.buf)).decode()
        reply["result_truncated"] = res.truncated
    return reply


def op_put(req: dict[str, Any]) -> dict[str, Any]:
    import tarfile  # only here: it is the slowest import, and start-up time counts

    dest = req["dest"]
    data = base64.b64decode(req["tar_b64"])
    os.makedirs(dest, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar.getmembers():
            if not (member.isreg() or member.isdir()):
                return {"ok": False, "error": f"refused tar member type: {member.name}"}
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # pragma: no cover - Python < 3.12 without the backported filter
            tar.extractall(dest)
    return {"ok": True}


def op_get(req: dict[str, Any]) -> dict[str, Any]:
    path = req["path"]
    cap = int(req.get("max_bytes", 64 << 20))
    try:
        with open(path, "rb") as f:
            data = f.read(cap + 1)
    except OSError as exc:
        return {"ok": False, "error": f"{exc.strerror or exc}: {path}", "missing": True}
    return {
        "ok": True,
        "data_b64": base64.b64encode(data[:cap]).decode(),
        "truncated": len(data) > cap,
    }


def serve() -> int:
    if not LOCAL_MODE:
        make_undumpable()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    # Our protocol owns fd 1: anything else this process prints goes to stderr.
    sys.stdout = sys.stderr
    write_frame(
        stdout,
        {"ok": True, "hello": "ws-harness", "pid": os.getpid(), "python": sys.version.split()[0]},
    )
    while True:
        try:
            req = read_frame(stdin)
        except ValueError as exc:
            write_frame(stdout, {"ok": False, "error": f"protocol: {exc}"})
            return 2
        if req is None:
            return 0
        op = req.get("op")
        try:
            if op == "run":
                reply = op_run(req)
            elif op == "put":
                reply = op_put(req)
            elif op == "get":
                reply = op_get(req)
            elif op == "ping":
                reply = {"ok": True}
            else:
                reply = {"ok": False, "error": f"unknown op {op!r}"}
        except Exception as exc:
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        reply["id"] = req.get("id")
        write_frame(stdout, reply)


# --------------------------------------------------------------------------- call
def call_main() -> int:
    """Child process of a `call`: import module:function, run it, write JSON.

    The request comes on stdin; the result goes to the fd named in the
    environment so that the function's own prints stay on stdout/stderr.
    """
    fd = int(os.environ.pop(CALL_RESULT_FD_ENV))
    request = json.loads(sys.stdin.buffer.read())
    sys.stdin = open(os.devnull)  # noqa: SIM115 - the function must not read our request
    sys.path.insert(0, os.getcwd())
    out = os.fdopen(fd, "wb")

    def emit(payload: dict[str, Any]) -> None:
        try:
            body = json.dumps(payload, allow_nan=False).encode()
        except (TypeError, ValueError, RecursionError) as exc:
            body = json.dumps(
                {
                    "ok": False,
                    "type": "UnserialisableResult",
                    "message": f"the result is not JSON: {type(exc).__name__}: {exc}"[:2000],
                    "traceback": "",
                }
            ).encode()
        out.write(body)
        out.flush()

    target = request["target"]
    module_name, _, func_name = target.partition(":")
    try:
        import importlib

        module = importlib.import_module(module_name)
        func: Any = module
        for part in func_name.split("."):
            func = getattr(func, part)
        value = func(*request.get("args", []), **request.get("kwargs", {}))
        try:
            json.dumps(value, allow_nan=False)
        except Exception as exc:
            emit(
                {
                    "ok": False,
                    "type": "UnserialisableResult",
                    "message": f"the result is not JSON: {type(exc).__name__}: {exc}"[:2000],
                    "traceback": "",
                }
            )
            return 0
        emit({"ok": True, "value": value})
    except BaseException as exc:
        emit(
            {
                "ok": False,
                "type": type(exc).__name__,
                "message": str(exc)[:4000],
                "traceback": traceback.format_exc()[-8000:],
            }
        )
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    if command == "serve":
        LOCAL_MODE = "--local" in sys.argv[2:]
        sys.exit(serve())
    if command == "call":
        sys.exit(call_main())
    print(f"usage: {sys.argv[0]} serve|call", file=sys.stderr)
    sys.exit(2)
