"""Root typer application; each sub-command lives in its own module."""

from __future__ import annotations

import typer
from worksample.cli import _doctor, _exercises, _grade, _images, _serve, _similarity
from worksample.mockllm import app as mock_llm_app

app = typer.Typer(
    name="worksample",
    help="Technical screening: exercises graded by hidden suites in Docker sandboxes.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(_images.app, name="images")
app.add_typer(_exercises.app, name="exercises")
app.add_typer(mock_llm_app, name="mock-llm")
app.command("doctor")(_doctor.doctor)
app.command("grade")(_grade.grade_command)
app.command("serve")(_serve.serve)
app.command("similarity")(_similarity.similarity_command)
app.command("worker")(_serve.worker)


def main() -> None:
    app()
