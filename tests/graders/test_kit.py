"""The starter kit as a candidate gets it: the starter, its wheel, one install command.

The slow tests unzip a kit outside the repository, make a fresh virtual
environment, install it the way every starter README says, and run the public
tests with nothing of this checkout on the path.
"""

from __future__ import annotations

import ast
import base64
import csv
import hashlib
import importlib
import io
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from worksample.graders import (
    Exercise,
    ExerciseError,
    build_starter_kit,
    kit_requirements,
    kit_wheel,
    list_exercise_dirs,
    load_exercise,
)

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
INSTALL = "python -m pip install -r requirements-kit.txt"
MINI_ADD = load_exercise(HERE / "exercises" / "mini-add")
MINI_CHAT = load_exercise(HERE / "exercises" / "mini-chat")


def kit_files(exercise: Exercise) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(build_starter_kit(exercise))) as kit:
        return {info.filename: kit.read(info) for info in kit.infolist()}


def wheel_files() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(kit_wheel()[1])) as wheel:
        return {name: wheel.read(name) for name in wheel.namelist()}


# --- what is in it ---------------------------------------------------------------------------


def test_the_kit_carries_its_wheel_and_the_one_install_command() -> None:
    name, wheel = kit_wheel()
    assert re.fullmatch(r"worksample_kit-[^-]+-py3-none-any\.whl", name)
    files = kit_files(MINI_CHAT)
    assert files[f"mini-chat/wheels/{name}"] == wheel
    requirements = files["mini-chat/requirements-kit.txt"].decode()
    assert requirements == kit_requirements(MINI_CHAT)
    assert f"\n./wheels/{name}\n" in requirements and INSTALL in requirements
    # Then the AI sandbox's packages, at the image's versions.
    image = ROOT / "sandboxes/worksample/sandboxes/images/ai/requirements.txt"
    for line in image.read_text().split():
        assert f"\n{line}\n" in requirements
    assert "scikit-learn==" in kit_files(MINI_ADD)["mini-add/requirements-kit.txt"].decode()
    for path in [*list_exercise_dirs(ROOT / "exercises"), MINI_ADD.root, MINI_CHAT.root]:
        readme = (path / "starter" / "README.md").read_text()
        assert INSTALL in readme, f"{path.name}: the README does not give the install command"
        assert "pip install worksample" not in readme


def test_the_wheel_holds_the_candidate_side_only_with_a_true_record() -> None:
    files = wheel_files()
    version = kit_wheel()[0].split("-")[1]
    dist_info = f"worksample_kit-{version}.dist-info"
    record = list(csv.reader(io.StringIO(files.pop(f"{dist_info}/RECORD").decode())))
    assert record[-1] == [f"{dist_info}/RECORD", "", ""]
    listed = {row[0]: row[1:] for row in record[:-1]}
    assert set(listed) == set(files)
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert listed[name] == [f"sha256={digest}", str(len(data))], name
    packages = {name.split("/")[1] for name in files if name.startswith("worksample/")}
    assert packages == {"graders", "sandboxes", "mockllm"}  # never web, cli, worker, db
    assert "worksample/__init__.py" not in files  # a portion of the namespace, like ours
    for package in ("graders", "sandboxes", "mockllm"):
        source = Path(importlib.import_module(f"worksample.{package}").__path__[0])
        modules = {p.relative_to(source).as_posix() for p in source.rglob("*.py")}
        shipped = {n.split("/", 2)[2] for n in files if n.startswith(f"worksample/{package}/")}
        assert modules <= shipped, modules - shipped
    assert "worksample/sandboxes/harness/ws_harness.py" in files
    assert not [n for n in files if "__pycache__" in n or n.endswith(".pyc")]
    assert files[f"{dist_info}/WHEEL"].decode().splitlines() == [
        "Wheel-Version: 1.0",
        "Generator: worksample",
        "Root-Is-Purelib: true",
        "Tag: py3-none-any",
    ]


# Imported under another name than their distribution's, or only by what kits never run.
IMPORT_NAMES = {"pydantic_core": "pydantic", "starlette": "fastapi"}
NOT_RUN_BY_KITS = {"typer"}  # the mock LLM's command line


def third_party_imports(files: dict[str, bytes]) -> set[str]:
    found = set()
    for name, data in files.items():
        if not name.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(data)):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    found -= {*sys.stdlib_module_names, "worksample"}
    return {IMPORT_NAMES.get(module, module) for module in found} - NOT_RUN_BY_KITS


def test_the_wheel_declares_what_its_code_imports_with_the_project_bounds() -> None:
    files = wheel_files()
    metadata = files[f"worksample_kit-{kit_wheel()[0].split('-')[1]}.dist-info/METADATA"].decode()
    fields = [line.split(": ", 1) for line in metadata.splitlines()]
    declared = {Requirement(v).name: str(Requirement(v).specifier) for k, v in fields
                if k == "Requires-Dist"}  # fmt: skip
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bounds = {Requirement(r).name: str(Requirement(r).specifier) for r in project["dependencies"]}
    assert set(declared) == third_party_imports(files)
    assert {"pytest", "pydantic", "docker", "fastapi", "uvicorn", "httpx"} <= set(declared)
    assert declared == {name: bounds[name] for name in declared}
    assert ["Requires-Python", project["requires-python"]] in fields
    assert ["Name", "worksample-kit"] in fields


def test_kits_are_deterministic_and_built_once_per_content(tmp_path: Path) -> None:
    first = build_starter_kit(MINI_ADD)
    # A fresh load of the same folder is the same content: the kit is not rebuilt.
    assert build_starter_kit(load_exercise(MINI_ADD.root)) is first
    copy = tmp_path / "mini-add"
    shutil.copytree(MINI_ADD.root, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert build_starter_kit(load_exercise(copy)) is first  # same bytes, another place
    (copy / "starter" / "notes.txt").write_text("more\n")
    changed = build_starter_kit(load_exercise(copy))
    assert changed != first
    assert "mini-add/notes.txt" in zipfile.ZipFile(io.BytesIO(changed)).namelist()
    with zipfile.ZipFile(io.BytesIO(first)) as kit:
        assert {info.date_time for info in kit.infolist()} == {(2020, 1, 1, 0, 0, 0)}
    with zipfile.ZipFile(io.BytesIO(kit_wheel()[1])) as wheel:
        assert {info.date_time for info in wheel.infolist()} == {(2020, 1, 1, 0, 0, 0)}


def test_a_starter_may_not_ship_a_file_the_kit_generates(tmp_path: Path) -> None:
    copy = tmp_path / "mini-add"
    shutil.copytree(MINI_ADD.root, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "starter" / "requirements-kit.txt").write_text("worksample\n")
    with pytest.raises(ExerciseError) as caught:
        build_starter_kit(load_exercise(copy))
    assert str(caught.value) == (
        f"{copy / 'starter' / 'requirements-kit.txt'}: the starter kit generates "
        "requirements-kit.txt; remove it"
    )


# --- as a candidate runs it -------------------------------------------------------------------

# What each README says the public tests show against the untouched starter.
STARTER_FAILURE = {
    "mini-add": "NotImplementedError",
    "mini-chat": "NotImplementedError",
    "ml-churn-pipeline": "is not implemented yet",
    "ai-support-agent": "not implemented",
}


def candidate_env(venv: Path) -> dict[str, str]:
    """The environment of a candidate's shell: nothing of this checkout or its venv."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "PYTEST_", "VIRTUAL_ENV", "UV_"))
        and str(ROOT) not in value
    }
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and str(ROOT) not in p]
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *path, "/usr/sbin", "/sbin"])
    return env


def unzip_kit(exercise: Exercise, where: Path) -> Path:
    assert not where.resolve().is_relative_to(ROOT)
    zipfile.ZipFile(io.BytesIO(build_starter_kit(exercise))).extractall(where)
    return where / exercise.id


class Venvs:
    """One fresh virtual environment per track, installed from the first kit of it.

    Kits of one track carry byte-identical `requirements-kit.txt` files and wheels
    (checked per kit), so the second install would repeat the first."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.installed: dict[str, tuple[Path, bytes]] = {}

    def for_kit(self, kit: Path, track: str) -> Path:
        requirements = (kit / "requirements-kit.txt").read_bytes()
        if track in self.installed:
            venv, first = self.installed[track]
            assert requirements == first
            return venv
        venv = self.root / f"venv-{track}"
        # The base interpreter, not this checkout's venv: a bare Python 3.11.
        python = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([python, "-m", "venv", str(venv)], check=True, capture_output=True)
        env = candidate_env(venv)
        install = [*INSTALL.split(), "-q", "--disable-pip-version-check"]
        done = subprocess.run(
            [str(venv / "bin" / install[0]), *install[1:]],
            cwd=kit, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        where = subprocess.run(
            [str(venv / "bin/python"), "-c", "import worksample; print(*worksample.__path__)"],
            cwd=kit, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        site = next(venv.glob("lib/python3.*/site-packages"))
        assert where.stdout.split() == [str(site / "worksample")]
        for module in ("worksample.web", "worksample.cli", "worksample.worker"):
            gone = subprocess.run([str(venv / "bin/python"), "-c", f"import {module}"],
                                  cwd=kit, env=env, capture_output=True, check=False)  # fmt: skip
            assert gone.returncode == 1, f"{module} is importable from the kit's venv"
        self.installed[track] = (venv, requirements)
        return venv


@pytest.fixture(scope="module")
def venvs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venvs]:
    yield Venvs(tmp_path_factory.mktemp("kit-venvs"))


def public_tests(kit: Path, venv: Path, backend: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin/pytest"), "tests", "-p", "no:cacheprovider", f"--ws-backend={backend}"],
        cwd=kit, env=candidate_env(venv), capture_output=True, text=True, check=False,
        timeout=600,
    )  # fmt: skip


def copy_reference(exercise: Exercise, kit: Path) -> None:
    shutil.copytree(exercise.reference_dir, kit, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip


KITS = [
    MINI_ADD,
    MINI_CHAT,
    load_exercise(ROOT / "exercises" / "ml-churn-pipeline"),
    load_exercise(ROOT / "exercises" / "ai-support-agent"),
]


@pytest.mark.slow
@pytest.mark.parametrize("exercise", KITS, ids=lambda e: e.id)
def test_a_downloaded_kit_installs_offline_and_runs_its_public_tests(
    exercise: Exercise, venvs: Venvs, tmp_path: Path
) -> None:
    kit = unzip_kit(exercise, tmp_path)
    venv = venvs.for_kit(kit, exercise.manifest.track)
    before = public_tests(kit, venv, "local")
    assert before.returncode == 1, before.stdout[-3000:] + before.stderr[-2000:]
    assert STARTER_FAILURE[exercise.id] in before.stdout
    assert " passed" not in before.stdout.splitlines()[-1], before.stdout[-1000:]
    assert "WITHOUT a sandbox" in before.stdout
    copy_reference(exercise, kit)
    after = public_tests(kit, venv, "local")
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.docker
@pytest.mark.parametrize("exercise", [MINI_ADD, MINI_CHAT], ids=lambda e: e.id)
def test_the_installed_kit_finds_the_sandbox_images(
    exercise: Exercise, venvs: Venvs, tmp_path: Path
) -> None:
    # The image tags are hashes of files the wheel ships: the same files, the same images.
    kit = unzip_kit(exercise, tmp_path)
    copy_reference(exercise, kit)
    run = public_tests(kit, venvs.for_kit(kit, exercise.manifest.track), "docker")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "WITHOUT a sandbox" not in run.stdout
