"""Root typer application; each sub-command lives in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="worksample",
    help="Technical screening: exercises graded by hidden suites in Docker sandboxes.",
    no_args_is_help=True,
    add_completion=False,
)


def main() -> None:
    app()
