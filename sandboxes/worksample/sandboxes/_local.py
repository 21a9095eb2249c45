"""The local backend: the harness as a plain subprocess. NOT a sandbox.

For candidates without Docker who want to run the public tests, and for the
platform's own tests of grading logic. It runs code with the caller's rights,
so everything that uses it says so loudly. The sandbox's paths /work and /tmp
are mapped to folders of a temporary directory: in file paths, cwd and whole
argv elements, not inside shell strings, so graders should use relative paths.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from worksample.sandboxes._harness_client import HarnessSession
from worksample.sandboxes._limits import Limits
from worksample.sandboxes._stream import HarnessStream

HARNESS_FILE = Path(__file__).with_name("harness") / "ws_harness.py"
UNSANDBOXED_WARNING = (
    "running WITHOUT a sandbox: the code runs on this machine with your own rights "
    "(no Docker engine was found)"
)


class LocalBackend:
    name = "local"
    isolated = False

    def __init__(self, python: str | None = None) -> None:
        self.python = python or sys.executable

    def open_session(
        self,
        *,
        image: str = "",
        limits: Limits,
        network: str | None = None,
        env: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> LocalSession:
        session = LocalSession(python=self.python, limits=limits, env=env)
        session.start()
        return session


class LocalSession(HarnessSession):
    def __init__(
        self, *, python: str, limits: Limits, env: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(limits=limits, env=env)
        self.runtime = "local"
        self.python = python
        self.root = Path(tempfile.mkdtemp(prefix="worksample-local-"))
        (self.root / "work").mkdir()
        (self.root / "tmp").mkdir()
        self._proc: subprocess.Popen[bytes] | None = None

    def _map_path(self, path: str) -> str:
        for prefix in ("/work", "/tmp"):
            if path == prefix or path.startswith(prefix + "/"):
                return str(self.root) + path
        return path

    def _harness_argv(self) -> list[str]:
        return [self.python, "-I", str(HARNESS_FILE), "call"]

    def _base_env(self) -> dict[str, str]:
        import os

        return {
            "PATH": str(Path(self.python).parent) + ":" + os.environ.get("PATH", ""),
            "HOME": str(self.root / "tmp"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def _start(self) -> None:
        ours, theirs = socket.socketpair()
        self._proc = subprocess.Popen(
            [self.python, "-I", str(HARNESS_FILE), "serve", "--local"],
            stdin=theirs.fileno(),
            stdout=theirs.fileno(),
            cwd=self.root / "work",
        )
        theirs.close()
        self._greet(HarnessStream(ours, multiplexed=False))

    def _discard(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
        if self._closed:
            shutil.rmtree(self.root, ignore_errors=True)
