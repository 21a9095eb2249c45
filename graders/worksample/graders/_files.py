"""The one folder walker, with the one list of what is never part of a tree.

Intake (uploads and folders), starter kits, a candidate's local public run and
exercise content hashes all read folders through `walk_tree`, so a file is
part of a submission, a kit or a hash by the same rule everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Tool output, caches, virtual environments and OS metadata: never the work itself.
SKIP_FOLDERS = frozenset(
    {
        "__MACOSX",
        "__pycache__",
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "node_modules",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".ipynb_checkpoints",
    }
)
SKIP_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
SKIP_SUFFIXES = (".pyc", ".pyo")


def is_skipped(parts: tuple[str, ...]) -> bool:
    """True for a path (its components) that no tree includes."""
    return (
        any(part in SKIP_FOLDERS for part in parts)
        or parts[-1] in SKIP_FILES
        or parts[-1].endswith(SKIP_SUFFIXES)
    )


@dataclass(frozen=True)
class Entry:
    """One entry below the root: its components, and what `os.scandir` saw."""

    parts: tuple[str, ...]
    entry: os.DirEntry[str]

    @property
    def rel(self) -> str:
        return "/".join(self.parts)

    @property
    def path(self) -> Path:
        return Path(self.entry.path)


def walk_tree(root: Path) -> Iterator[Entry]:
    """Every entry below `root` that is not skipped, depth first in sorted order
    (a folder before its contents). Symlinks are yielded, never followed;
    skipped folders are not entered."""
    yield from _walk(str(root), ())


def _walk(folder: str, prefix: tuple[str, ...]) -> Iterator[Entry]:
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=lambda e: e.name)
    for entry in entries:
        parts = (*prefix, entry.name)
        if is_skipped(parts):
            continue
        yield Entry(parts, entry)
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(entry.path, parts)


def walk_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(relative POSIX path, path) of every regular file below a trusted `root`,
    in a stable order; symlinks and special files are left out."""
    for item in walk_tree(root):
        if item.entry.is_file(follow_symlinks=False):
            yield item.rel, item.path
