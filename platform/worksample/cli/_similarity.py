"""`worksample similarity EXERCISE PATH PATH...`: pairwise similarity evidence, starter excluded.

Every pair of submissions, the most similar first: how much of each is found in
the other, per file, and the matched fragments side by side. Figures for a
person to read with the code, not a verdict.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import BaseModel
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text
from worksample.cli._common import EXIT_REFUSED, err_console, resolve_exercise
from worksample.graders import SubmissionRejected, read_directory, read_submission
from worksample.similarity import (
    Comparison,
    FileShare,
    Fingerprints,
    Fragment,
    SimilarityIndex,
    fingerprint_files,
    starter_fingerprints,
)


class SubmissionSummary(BaseModel):
    name: str
    fingerprints: int
    files: list[str]


class SimilarityOutput(BaseModel):
    """What `--json` prints: one document."""

    exercise: str
    k: int
    w: int
    submissions: list[SubmissionSummary]
    comparisons: list[Comparison]


def similarity_command(
    exercise: Annotated[str, typer.Argument(help="Exercise id, or the path of its folder.")],
    paths: Annotated[
        list[Path], typer.Argument(help="Two or more submissions: each a .zip or a folder.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Compare submissions pairwise on normalised tokens, the exercise's starter
    excluded. Exit 0 whatever the figures, 2 for a missing or rejected path or an
    unknown exercise."""
    loaded = resolve_exercise(exercise)
    if len(paths) < 2:
        _refuse("give at least two submissions to compare")
    starter = starter_fingerprints(read_directory(loaded.starter_dir).files)
    index = SimilarityIndex()
    prints: list[Fingerprints] = []
    comparisons: list[Comparison] = []
    for path in paths:
        fingerprints = fingerprint_files(
            _read(path, loaded.manifest.submission.required), name=str(path), starter=starter
        )
        comparisons += index.add(fingerprints)
        prints.append(fingerprints)
    comparisons.sort(key=lambda c: -max(c.share_a, c.share_b))
    if as_json:
        output = SimilarityOutput(
            exercise=loaded.id,
            k=index.k,
            w=index.w,
            submissions=[
                SubmissionSummary(
                    name=p.name, fingerprints=len(p.hashes), files=[f.path for f in p.files]
                )
                for p in prints
            ],
            comparisons=comparisons,
        )
        sys.stdout.write(output.model_dump_json(indent=2) + "\n")
        return
    console = Console(emoji=False, soft_wrap=True, highlight=False)
    console.print(
        f"Similarity of {len(prints)} submissions of {loaded.id}, starter excluded "
        f"(k={index.k} tokens, window {index.w}); code held by more than "
        f"{index.common_min} submissions and {index.common_share:.0%} of them is common, "
        "no evidence; most similar pair first. "
        "Evidence to read with the code, not a verdict.",
        markup=False,
    )
    for comparison in comparisons:
        print_comparison(comparison, console)


def _read(path: Path, required: list[str]) -> dict[str, bytes]:
    if not path.exists():
        _refuse(f"{path}: no such file or folder")
    try:
        return dict(read_submission(path, required=required).files)
    except SubmissionRejected as exc:
        _refuse(f"{path}: {exc}")


def _refuse(message: str) -> NoReturn:
    err_console.print(message, markup=False, style="red")
    raise typer.Exit(EXIT_REFUSED)


def print_comparison(comparison: Comparison, console: Console) -> None:
    console.print()
    console.print(Text(f"a: {comparison.a}\nb: {comparison.b}", style="bold"))
    console.print(
        f"  {comparison.share_a:.0%} of a found in b "
        f"({comparison.matched_a} of {_total(comparison.files_a)} fingerprints); "
        f"{comparison.share_b:.0%} of b found in a "
        f"({comparison.matched_b} of {_total(comparison.files_b)})",
        markup=False,
    )
    for side, files in (("a", comparison.files_a), ("b", comparison.files_b)):
        shares = ", ".join(f"{f.path} {f.share:.0%}" for f in files if f.matched)
        if shares:
            console.print(f"  files of {side}: {shares}", markup=False)
    for number, fragment in enumerate(comparison.fragments, start=1):
        print_fragment(number, fragment, console)
    if comparison.fragments_left_out:
        console.print(
            f"  {comparison.fragments_left_out} shorter fragments not shown", markup=False
        )


def print_fragment(number: int, fragment: Fragment, console: Console) -> None:
    table = Table(
        title=f"  fragment {number} ({fragment.fingerprints} fingerprints)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for side, path, (first, last) in (
        ("a", fragment.path_a, fragment.lines_a),
        ("b", fragment.path_b, fragment.lines_b),
    ):
        table.add_column(Text(f"{side} {path}:{first}-{last}"), overflow="fold")
    table.add_row(
        _numbered(fragment.text_a, fragment.lines_a[0]),
        _numbered(fragment.text_b, fragment.lines_b[0]),
    )
    console.print(table)


def _numbered(text: str, first: int) -> Text:
    lines = text.split("\n")
    width = len(str(first + len(lines) - 1))
    return Text("\n".join(f"{first + i:>{width}} {line}" for i, line in enumerate(lines)))


def _total(files: list[FileShare]) -> int:
    return sum(f.fingerprints for f in files)
