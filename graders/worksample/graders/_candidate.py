"""The `candidate` fixture's object: a sandbox session that records every call.

Tests reach the candidate's code only through this. Each command or call is
recorded against the test that made it (session fixtures' calls count for the
test whose set-up ran them), so a reviewer sees what every test did.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from worksample.graders._report import OUTPUT_CAP, CandidateCall
from worksample.sandboxes import CallOutcome, RunResult, SandboxSession

SUBMISSION_DIR = "/work/submission"


class CallLog:
    def __init__(self) -> None:
        self.current = ""
        self.by_test: dict[str, list[CandidateCall]] = defaultdict(list)
        self.peak_memory_bytes: int | None = None
        self.wall_s = 0.0
        self.count = 0

    def add(self, run: RunResult, *, timeout_s: float) -> None:
        self.count += 1
        self.wall_s += run.wall_s
        if run.peak_memory_bytes is not None:
            self.peak_memory_bytes = max(self.peak_memory_bytes or 0, run.peak_memory_bytes)
        self.by_test[self.current].append(
            CandidateCall(
                argv=run.argv,
                exit_code=run.exit_code,
                timed_out=run.timed_out,
                oom_killed=run.oom_killed,
                sandbox_lost=run.sandbox_lost,
                wall_s=round(run.wall_s, 4),
                peak_memory_bytes=run.peak_memory_bytes,
                timeout_s=timeout_s,
                stdout=_cap(run.stdout),
                stderr=_cap(run.stderr),
                stdout_truncated=run.stdout_truncated or len(run.stdout) > OUTPUT_CAP,
                stderr_truncated=run.stderr_truncated or len(run.stderr) > OUTPUT_CAP,
            )
        )


class Candidate:
    """What hidden tests call. Paths default to the submission's folder."""

    def __init__(self, session: SandboxSession, log: CallLog, *, sandboxed: bool) -> None:
        self._session = session
        self._log = log
        self.sandboxed = sandboxed
        self.submission_dir = SUBMISSION_DIR

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        stdin: bytes = b"",
        env: Mapping[str, str] | None = None,
        cwd: str = SUBMISSION_DIR,
    ) -> RunResult:
        result = self._session.run(argv, timeout=timeout, stdin=stdin, env=env, cwd=cwd)
        self._log.add(result, timeout_s=self._timeout(timeout))
        return result

    def call(
        self, target: str, *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> CallOutcome:
        outcome = self._session.call(target, *args, timeout=timeout, cwd=SUBMISSION_DIR, **kwargs)
        self._log.add(outcome.run, timeout_s=self._timeout(timeout))
        return outcome

    def _timeout(self, asked: float | None) -> float:
        # The sessions apply the same default, so the report draws the limit the call had.
        return self._session.limits.call_timeout_s if asked is None else asked

    def put_files(self, files: Mapping[str, bytes], dest: str = SUBMISSION_DIR) -> None:
        self._session.put_files(files, dest)

    def put_dir(self, source: Path, dest: str = SUBMISSION_DIR) -> None:
        self._session.put_dir(source, dest)

    def get_file(self, path: str, max_bytes: int = 64 << 20) -> bytes:
        if not path.startswith("/"):
            path = f"{SUBMISSION_DIR}/{path}"
        return self._session.get_file(path, max_bytes)


def _cap(data: bytes) -> str:
    text = data[: OUTPUT_CAP * 2].decode("utf-8", errors="replace")
    return text[:OUTPUT_CAP]
