"""Root typer application; each sub-command lives in its own module."""

from __future__ import annotations

import typer
from worksample.cli import _doctor, _images

app = typer.Typer(
    name="worksample",
    help="Technical screening: exercises graded by hidden suites in Docker sandboxes.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(_images.app, name="images")
app.command("doctor")(_doctor.doctor)


def main() -> None:
    app()
