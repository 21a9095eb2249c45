"""What graders rely on: files in and out, commands, calls across the boundary.

Each behaviour runs on the Docker backend and on the local backend, which
share the harness protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from worksample.sandboxes import (
    DockerBackend,
    Limits,
    LocalBackend,
    SandboxError,
    SandboxSession,
)

LIMITS = Limits(memory_mb=256, call_timeout_s=20)

MODULE = b"""
import json, os, sys

def add(a, b=0):
    print("adding", a, b)
    print("to stderr", file=sys.stderr)
    return a + b

def boom():
    raise ValueError("bad input: 42")

def exits():
    sys.exit(0)

def hard_exit():
    os._exit(0)

def not_json():
    return {1, 2, 3}

def nan():
    return float("nan")

class Sneaky(dict):
    def __iter__(self):
        raise RuntimeError("confused")
    def items(self):
        raise RuntimeError("confused")

def sneaky():
    return Sneaky(a=1)

def deep():
    x = []
    for _ in range(100000):
        x = [x]
    return x

def forge():
    fd = int(os.environ.get("WS_HARNESS_RESULT_FD", "-1"))
    return "honest"

def big():
    return "x" * (20 * 2**20)

def reads_stdin():
    return sys.stdin.read()
"""


@pytest.fixture(params=["docker", "local"])
def session(request: pytest.FixtureRequest) -> Iterator[SandboxSession]:
    if request.param == "docker":
        backend: DockerBackend | LocalBackend = request.getfixturevalue("backend")
        image = request.getfixturevalue("ml_image")
    else:
        backend, image = LocalBackend(), ""
    with backend.open_session(image=image, limits=LIMITS) as s:
        s.put_files({"sub/mod.py": MODULE, "sub/data/in.txt": b"hello\n"}, "/work")
        yield s


def test_run_with_stdin_env_and_cwd(session: SandboxSession) -> None:
    r = session.run(
        [
            "python3",
            "-c",
            "import os,sys; print(os.getcwd().endswith('/sub'), os.environ['X'], sys.stdin.read())",
        ],
        stdin=b"piped",
        env={"X": "from-env"},
        cwd="/work/sub",
    )
    assert r.exit_code == 0 and r.text() == "True from-env piped\n"
    assert r.wall_s > 0 and not r.timed_out


def test_large_stdin_is_fed_completely(session: SandboxSession) -> None:
    data = b"0123456789" * 300_000
    r = session.run(
        ["python3", "-c", "import sys; print(len(sys.stdin.buffer.read()))"], stdin=data
    )
    assert r.text().strip() == str(len(data))


def test_exit_codes_and_missing_programs(session: SandboxSession) -> None:
    assert session.run(["sh", "-c", "exit 7"]).exit_code == 7
    with pytest.raises(SandboxError, match="cannot start 'no-such-program'"):
        session.run(["no-such-program"])


def test_put_and_get_files(session: SandboxSession) -> None:
    assert session.get_file("/work/sub/data/in.txt") == b"hello\n"
    session.run(["sh", "-c", "printf out > result.bin"], cwd="/work/sub")
    assert session.get_file("/work/sub/result.bin") == b"out"
    with pytest.raises(FileNotFoundError):
        session.get_file("/work/sub/missing.txt")
    with pytest.raises(SandboxError, match="larger than 3 bytes"):
        session.get_file("/work/sub/data/in.txt", max_bytes=3)
    with pytest.raises(SandboxError, match="must be relative"):
        session.put_files({"../escape.txt": b"x"})


def test_call_returns_json_and_keeps_prints(session: SandboxSession) -> None:
    out = session.call("mod:add", 2, b=3, cwd="/work/sub")
    assert out.ok and out.value == 5
    assert out.run.text() == "adding 2 3\n" and "to stderr" in out.run.text("stderr")


@pytest.mark.parametrize(
    ("target", "kind", "message"),
    [
        ("mod:boom", "ValueError", "bad input: 42"),
        ("mod:exits", "SystemExit", "0"),
        ("mod:hard_exit", "NoResult", "ended without returning (exit code 0)"),
        ("mod:not_json", "UnserialisableResult", "not JSON"),
        ("mod:nan", "UnserialisableResult", "not JSON"),
        ("mod:deep", "UnserialisableResult", "not JSON"),
        ("mod:big", "ResultTooLarge", "exceeds"),
        ("mod:missing", "AttributeError", "missing"),
        ("nomodule:f", "ModuleNotFoundError", "nomodule"),
    ],
)
def test_call_failures_are_reported_not_raised(
    session: SandboxSession, target: str, kind: str, message: str
) -> None:
    out = session.call(target, cwd="/work/sub")
    assert not out.ok and out.error is not None
    assert out.error.type == kind
    assert message in out.error.message


def test_call_with_crafted_dict_subclass(session: SandboxSession) -> None:
    out = session.call("mod:sneaky", cwd="/work/sub")
    # Whatever the object does, the trusted side only ever sees parsed JSON.
    assert (out.ok and out.value == {"a": 1}) or (out.error and out.error.type)


def test_call_cannot_read_its_own_request_from_stdin(session: SandboxSession) -> None:
    out = session.call("mod:reads_stdin", cwd="/work/sub")
    assert out.ok and out.value == ""


def test_call_arguments_must_be_json(session: SandboxSession) -> None:
    with pytest.raises(SandboxError, match="JSON"):
        session.call("mod:add", object())


def test_put_dir_copies_a_tree(session: SandboxSession, tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("VALUE = 7\n")
    session.put_dir(tmp_path, "/work/tree")
    r = session.run(["python3", "-c", "import pkg; print(pkg.VALUE)"], cwd="/work/tree")
    assert r.text() == "7\n"
