"""Helpers shared by sub-commands."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from worksample.graders import Exercise, ExerciseError, find_exercise, load_exercise
from worksample.sandboxes import EngineUnavailable, connect_engine
from worksample.settings import get_settings

err_console = Console(stderr=True, emoji=False, soft_wrap=True)


def resolve_exercise(name: str) -> Exercise:
    """An exercise by id (in WORKSAMPLE_EXERCISES_DIR) or by the path of its folder."""
    try:
        path = Path(name)
        if (path / "exercise.toml").is_file():
            return load_exercise(path)
        return find_exercise(get_settings().exercises_dir, name)
    except ExerciseError as exc:
        err_console.print(str(exc), markup=False, style="red")
        raise typer.Exit(2) from exc


def choose_backend(requested: str | None) -> str:
    if requested:
        return requested
    try:
        connect_engine(timeout=5)
    except EngineUnavailable:
        err_console.print(
            "no Docker engine: grading locally, WITHOUT a sandbox (use --backend docker to refuse)",
            style="yellow",
        )
        return "local"
    return "docker"
