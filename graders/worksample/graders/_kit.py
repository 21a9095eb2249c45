"""The starter kit a candidate downloads: `starter/` as a zip, plus `worksample.toml`.

`worksample.toml` tells the graders' plugin, when the candidate runs the
public tests with plain `pytest`, which track's image to use and which
limits to apply, so their run matches the grader's.
"""

from __future__ import annotations

import io
import json
import zipfile

from worksample.graders._exercise import Exercise

KIT_FILE = "worksample.toml"
_SKIP = {"__pycache__", ".pytest_cache"}
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


def build_starter_kit(exercise: Exercise) -> bytes:
    """A deterministic zip of the starter, wrapped in a folder named after the exercise."""
    buf = io.BytesIO()
    root = exercise.starter_dir
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if any(part in _SKIP for part in rel.parts) or not path.is_file():
                continue
            _add(zf, f"{exercise.id}/{rel.as_posix()}", path.read_bytes())
        _add(zf, f"{exercise.id}/{KIT_FILE}", kit_settings(exercise).encode())
    return buf.getvalue()


def _add(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, _EPOCH)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)
