"""`worksample exercises list|validate`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from worksample.cli._common import err_console, grading_options, load_settings, resolve_exercise
from worksample.cli._regrade import regrade_command
from worksample.graders import ExerciseError, Finding, list_exercise_dirs, validate_exercise
from worksample.graders import load_exercise as load
from worksample.sandboxes import BackendName
from worksample.web.services.validation_record import record_validation

app = typer.Typer(help="List and validate exercises.", no_args_is_help=True)
console = Console(emoji=False, soft_wrap=True)
app.command("regrade")(regrade_command)


@app.command("list")
def list_command() -> None:
    """Every exercise with its track, version and content hash."""
    for path in list_exercise_dirs(load_settings().exercises_dir):
        try:
            ex = load(path)
        except ExerciseError as exc:
            console.print(f"{path.name}\t[red]invalid[/red]: {exc}")
            continue
        m = ex.manifest
        typer.echo(f"{m.id}\t{m.track}\t{m.version}\t{ex.content_hash[:12]}\t{m.title}")


@app.command("validate")
def validate_command(
    exercise: Annotated[
        str | None, typer.Argument(help="Exercise id or folder; all when omitted.")
    ] = None,
    backend: Annotated[BackendName | None, typer.Option(help="docker or local.")] = None,
) -> None:
    """Grade the reference (twice), the starter and every faulty solution."""
    if exercise is not None:
        exercises = [resolve_exercise(exercise)]
    else:
        exercises = [
            resolve_exercise(str(p)) for p in list_exercise_dirs(load_settings().exercises_dir)
        ]
    options = grading_options(backend)
    failures = 0

    def show(finding: Finding) -> None:
        nonlocal failures
        failures += 0 if finding.ok else 1
        mark = "[green]✓[/green]" if finding.ok else "[red]✗[/red]"
        console.print(mark, end=" ")
        console.print(f"{finding.check}: {finding.detail}", markup=False)

    for ex in exercises:
        err_console.print(f"[bold]{ex.id}[/bold]")
        findings = validate_exercise(ex, options=options, on_finding=show)
        record_validation(exercise=ex, findings=findings, data_dir=load_settings().data_dir)
    if failures:
        console.print(f"[red]{failures} problem(s)[/red]")
        raise typer.Exit(1)
