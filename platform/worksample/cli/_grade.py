"""`worksample grade EXERCISE PATH`: grade a zip or a folder, as a table or JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from worksample.cli._common import err_console, grading_options, resolve_exercise
from worksample.graders import Report, grade
from worksample.sandboxes import BackendName

EXIT_REJECTED = 2
EXIT_ERROR = 3
_MARKS = {
    "passed": "[green]passed[/green]",
    "failed": "[red]failed[/red]",
    "error": "[red]error[/red]",
    "skipped": "[yellow]skipped[/yellow]",
}


def grade_command(
    exercise: Annotated[str, typer.Argument(help="Exercise id, or the path of its folder.")],
    path: Annotated[Path, typer.Argument(help="The submission: a .zip or a folder.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one Report JSON document.")
    ] = False,
    public_only: Annotated[bool, typer.Option(help="Run only the public tests.")] = False,
    backend: Annotated[
        BackendName | None,
        typer.Option(help="docker (default when an engine answers) or local (NOT a sandbox)."),
    ] = None,
) -> None:
    """Grade a submission. Exit 0 when graded (whatever the score), 2 when the
    submission is rejected, 3 when grading failed."""
    loaded = resolve_exercise(exercise)
    options = grading_options(backend, public_only=public_only)
    progress = None if as_json else _progress_printer()
    report = grade(loaded, path, options=options, progress=progress)
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        print_report(report, Console(emoji=False, soft_wrap=True))
    if report.status == "rejected":
        raise typer.Exit(EXIT_REJECTED)
    if report.status == "error":
        raise typer.Exit(EXIT_ERROR)


def _progress_printer() -> Any:
    def show(event: dict[str, Any]) -> None:
        if event.get("event") == "start":
            err_console.print(f"  running {event['id']}", style="dim", markup=False)
        elif event.get("event") == "done":
            mark = _MARKS.get(event.get("outcome", ""), event.get("outcome", ""))
            err_console.print(f"  {mark} {event['id']}", highlight=False)

    return show


def print_report(report: Report, console: Console) -> None:
    ex = report.exercise
    console.print(f"[bold]{ex.title}[/bold] ({ex.id} {ex.version}, {ex.content_hash[:12]})")
    if report.status != "graded":
        console.print(f"[red]{report.status}[/red]: {report.reason}", highlight=False)
        return
    tests = Table(title="Tests", title_justify="left")
    for col in ("test", "category", "weight", "outcome", "s", "message"):
        tests.add_column(col, overflow="fold")
    for t in report.tests:
        tests.add_row(
            t.id + (" (public)" if t.public else ""),
            t.category,
            f"{t.weight:g}",
            _MARKS[t.outcome],
            f"{t.duration_s:.2f}",
            t.message.splitlines()[0] if t.message else "",
        )
    console.print(tests)
    cats = Table(title="Categories", title_justify="left")
    for col in ("category", "weight", "passed", "score"):
        cats.add_column(col)
    for c in report.categories:
        cats.add_row(c.name, f"{c.weight:.0f}", f"{c.passed}/{c.total}", f"{c.score:.1f}")
    console.print(cats)
    sandbox = (
        f"image {report.image.tag}, runtime {', '.join(report.runtimes) or '?'}"
        if report.image
        else "[yellow]NOT SANDBOXED (local backend)[/yellow]"
    )
    console.print(
        f"[bold]Score {report.score:.1f} / 100[/bold]  ·  {sandbox}  ·  "
        f"{report.timings.total_s:.1f} s" + ("  ·  public tests only" if report.public_only else "")
    )
    for knockout in report.knockouts:
        console.print(
            Text.assemble(
                ("Knock-out: ", "bold red"),
                knockout.label,
                f" (capped at {knockout.cap:g}; failed {', '.join(knockout.tests)})",
            )
        )
    print_points_lost(report, console)


def print_points_lost(report: Report, console: Console) -> None:
    """Where the points went, the largest loss first: what each lost test checks."""
    losses = report.losses
    if not losses:
        console.print("No points lost.")
        return
    total = sum(t.points_lost for t in losses) + report.capped_by
    table = Table(title=f"Points lost ({total:.2f} of 100)", title_justify="left")
    for col in ("points", "test", "category", "what it checks"):
        table.add_column(col, overflow="fold", justify="right" if col == "points" else "left")
    for t in losses:
        # Authors' words, not markup: a "[doc:ID]" in a docstring stays as written.
        table.add_row(f"-{t.points_lost:.2f}", Text(t.name), t.category, Text(t.summary))
    if report.capped_by > 0:
        labels = "; ".join(k.label for k in report.knockouts)
        table.add_row(f"-{report.capped_by:.2f}", "knock-out cap", "", Text(labels))
    console.print(table, highlight=False)
