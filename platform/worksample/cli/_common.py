"""Helpers shared by sub-commands."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from worksample.graders import Exercise, ExerciseError, GradingOptions, find_exercise, load_exercise
from worksample.sandboxes import BackendName, detect_backend
from worksample.settings import Settings, SettingsRefused, get_settings

err_console = Console(stderr=True, emoji=False, soft_wrap=True)


EXIT_REFUSED = 2


def load_settings(**overrides: object) -> Settings:
    """This process's settings with the command line's `overrides`, or exit 2 with
    the reason: every command refuses what the settings refuse, in the same words."""
    try:
        settings = get_settings()
        return settings.with_overrides(**overrides) if overrides else settings
    except SettingsRefused as exc:
        err_console.print(f"refused: {exc}", markup=False, style="red")
        raise typer.Exit(EXIT_REFUSED) from None


def grading_options(requested: BackendName | None, *, public_only: bool = False) -> GradingOptions:
    """The options of a command-line grading: `--backend`, else the setting when
    it is set, else Docker when an engine answers and the (loudly) unsandboxed
    local backend when none does; validated by the settings' production policy."""
    settings = load_settings()
    backend = requested
    if backend is None and "grading_backend" not in settings.model_fields_set:
        backend = detect_backend()
        if backend == "local":
            err_console.print(
                "no Docker engine: grading locally, WITHOUT a sandbox "
                "(use --backend docker to refuse)",
                style="yellow",
            )
    if backend is not None:
        settings = load_settings(grading_backend=backend)
    return GradingOptions(sandbox=settings.sandbox_options, public_only=public_only)


def resolve_exercise(name: str) -> Exercise:
    """An exercise by id (in WORKSAMPLE_EXERCISES_DIR) or by the path of its folder."""
    try:
        path = Path(name)
        if (path / "exercise.toml").is_file():
            return load_exercise(path)
        return find_exercise(load_settings().exercises_dir, name)
    except ExerciseError as exc:
        err_console.print(str(exc), markup=False, style="red")
        raise typer.Exit(2) from exc
