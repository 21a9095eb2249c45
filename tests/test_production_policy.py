"""Production refuses the same things, in the same words, at every entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKSAMPLE = str(Path(sys.executable).with_name("worksample"))
MINI = ROOT / "tests" / "graders" / "exercises" / "mini-add"
NO_SANDBOX = (
    "WORKSAMPLE_GRADING_BACKEND=local (candidate code on this machine, WITHOUT a sandbox) "
    "is refused in production"
)
COMMANDS = {
    "serve": ["serve", "--port", "1"],
    "worker": ["worker"],
    "grade": ["grade", str(MINI), str(MINI / "reference")],
    "validate": ["exercises", "validate", str(MINI)],
}


def run(argv: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WORKSAMPLE_")}
    clean["WORKSAMPLE_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [WORKSAMPLE, *argv],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_local_backend_is_refused_in_production_everywhere(
    command: str, tmp_path: Path
) -> None:
    done = run(
        COMMANDS[command], tmp_path, WORKSAMPLE_ENV="production", WORKSAMPLE_GRADING_BACKEND="local"
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"refused: {NO_SANDBOX}" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["grade", "validate"])
def test_a_flag_cannot_get_round_the_policy(command: str, tmp_path: Path) -> None:
    done = run([*COMMANDS[command], "--backend", "local"], tmp_path, WORKSAMPLE_ENV="production")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"refused: {NO_SANDBOX}" in " ".join(done.stderr.split())


def test_every_refusal_is_named_at_once(tmp_path: Path) -> None:
    done = run(
        ["serve", "--port", "1"],
        tmp_path,
        WORKSAMPLE_ENV="production",
        WORKSAMPLE_COOKIE_SECURE="false",
        WORKSAMPLE_DEMO_ADMIN_PASSWORD="demo",
    )
    assert done.returncode == 2
    said = " ".join(done.stderr.split())
    assert "WORKSAMPLE_COOKIE_SECURE=false is refused in production" in said
    assert "WORKSAMPLE_DEMO_ADMIN_PASSWORD) is refused in production" in said


def test_development_grades_locally_when_asked(tmp_path: Path) -> None:
    done = run(["grade", str(MINI), str(MINI / "reference"), "--backend", "local"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "NOT SANDBOXED" in done.stdout
