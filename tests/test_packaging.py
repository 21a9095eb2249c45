"""The package layout keeps the design card's folders without shadowing `platform`."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_stdlib_platform_is_not_shadowed_from_the_repository_root() -> None:
    code = "import platform, uuid; print(platform.python_version(), platform.system())"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split()[0] == ".".join(map(str, sys.version_info[:3]))


def test_no_init_files_in_the_namespace_folders() -> None:
    for folder in ("platform", "graders", "sandboxes", "mockllm"):
        assert not (ROOT / folder / "__init__.py").exists()
        assert not (ROOT / folder / "worksample" / "__init__.py").exists()


def test_wheel_holds_every_part(tmp_path: Path) -> None:
    uv = ROOT / ".cache" / "uv" / "bin" / "uv"
    subprocess.run(
        [str(uv), "build", "--wheel", "--out-dir", str(tmp_path), "--quiet"],
        cwd=ROOT,
        check=True,
    )
    (wheel,) = tmp_path.glob("worksample-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for module in (
        "worksample/cli/__init__.py",
        "worksample/sandboxes/__init__.py",
        "worksample/sandboxes/harness/ws_harness.py",
        "worksample/sandboxes/images/Dockerfile",
        "worksample/sandboxes/images/ml/requirements.txt",
        "worksample/mockllm/__init__.py",
        "worksample/mockllm/image/Dockerfile",
        "worksample/mockllm/image/requirements.txt",
    ):
        assert module in names, module
    assert not any(n.startswith("platform/") or n == "worksample/__init__.py" for n in names)


def test_console_script_runs() -> None:
    out = subprocess.run(
        [str(Path(sys.executable).with_name("worksample")), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("images", "doctor"):
        assert command in out.stdout
