"""`worksample exercises regrade EXERCISE --against FOLDER | --stored`: what a change
of an exercise does to real submissions, before it ships.

FOLDER holds submissions, each a .zip or a sub-folder. The first run grades each
and keeps its report as the baseline in `FOLDER/.regrade/<name>.json`, with the
exercise's version and content hash of that time; every later run grades each
again and prints what moved against its baseline: the total (knock-outs
applied) and the total before their caps, the knock-outs, each test whose
outcome or points moved, and the tests added to or removed from the suite.
`--update` then replaces the baselines. `--stored` instead regrades the final
submissions in the platform's database against their latest stored reports,
only reading, and names each by invitation and position id, never by person.

Exit 0 when nothing changed, 1 when a status, a total, a knock-out or a test's
outcome did, or a test came or went (points moved between tests that pass both
times are shown, not counted: the candidate's result is the same), 2 for bad input.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer
from pydantic import BaseModel, ValidationError, computed_field
from rich.console import Console
from rich.text import Text
from worksample.cli._common import (
    EXIT_REFUSED,
    err_console,
    grading_options,
    load_settings,
    resolve_exercise,
)
from worksample.graders import Exercise, Report, TestResult, grade
from worksample.sandboxes import BackendName

EXIT_CHANGED = 1
BASELINES = ".regrade"
NOT_SUBMISSIONS = frozenset({"__MACOSX", "__pycache__"})  # besides hidden names (.regrade)
MESSAGE_SHOWN = 200
Result = Literal["recorded", "unchanged", "changed", "no-report"]


class ExerciseStamp(BaseModel):
    id: str
    version: str
    content_hash: str

    @classmethod
    def of(cls, report: Report) -> ExerciseStamp:
        ex = report.exercise
        return cls(id=ex.id, version=ex.version, content_hash=ex.content_hash)


class KnockoutRef(BaseModel):
    id: str
    label: str
    cap: float


class TestChange(BaseModel):
    """One test that moved: `outcome` (and maybe its points), `points` alone, or
    `added` to (`removed` from) the suite, with only its after (before) side."""

    id: str
    change: Literal["outcome", "points", "added", "removed"]
    outcome_before: str | None = None
    outcome_after: str | None = None
    points_before: float | None = None
    points_after: float | None = None
    message: str = ""  # the first line of the new failure's message, when it no longer passes


class ReportChanges(BaseModel):
    """What moved between two gradings of one submission (`compare_reports`)."""

    status_before: str
    status_after: str
    reason_before: str
    reason_after: str
    score_before: float | None
    score_after: float | None
    uncapped_before: float | None
    uncapped_after: float | None
    knockouts_before: list[KnockoutRef]
    knockouts_after: list[KnockoutRef]
    tests: list[TestChange]
    submission_changed: bool  # its files differ: the move may be the work's, not the exercise's
    exercise_before: ExerciseStamp
    exercise_after: ExerciseStamp
    backend_before: str
    backend_after: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def changed(self) -> bool:
        return (
            self.status_before != self.status_after
            or not _same(self.score_before, self.score_after)
            or not _same(self.uncapped_before, self.uncapped_after)
            or [k.id for k in self.knockouts_before] != [k.id for k in self.knockouts_after]
            or any(t.change != "points" for t in self.tests)
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def delta(self) -> float | None:
        """The total's move; None unless both gradings were graded."""
        if self.score_before is None or self.score_after is None:
            return None
        return round(self.score_after - self.score_before, 4)


def compare_reports(before: Report, after: Report) -> ReportChanges:
    """What changed from `before` to `after`, two gradings of one submission.
    Tests are compared only when both were graded (a rejection has none): in
    `after`'s order, then those `before` alone had."""
    tests: list[TestChange] = []
    if before.status == after.status == "graded":
        old = {t.id: t for t in before.tests}
        new = {t.id: t for t in after.tests}
        for t in after.tests:
            if (was := old.get(t.id)) is None:
                tests.append(
                    TestChange(
                        id=t.id, change="added", outcome_after=t.outcome, points_after=t.points
                    )
                )
            elif (change := _test_change(was, t)) is not None:
                tests.append(change)
        tests += [
            TestChange(id=t.id, change="removed", outcome_before=t.outcome, points_before=t.points)
            for t in before.tests
            if t.id not in new
        ]
    return ReportChanges(
        status_before=before.status,
        status_after=after.status,
        reason_before=before.reason,
        reason_after=after.reason,
        score_before=before.score,
        score_after=after.score,
        uncapped_before=_uncapped(before),
        uncapped_after=_uncapped(after),
        knockouts_before=[KnockoutRef(id=k.id, label=k.label, cap=k.cap) for k in before.knockouts],
        knockouts_after=[KnockoutRef(id=k.id, label=k.label, cap=k.cap) for k in after.knockouts],
        tests=tests,
        submission_changed=None not in (before.submission_sha256, after.submission_sha256)
        and before.submission_sha256 != after.submission_sha256,
        exercise_before=ExerciseStamp.of(before),
        exercise_after=ExerciseStamp.of(after),
        backend_before=before.backend,
        backend_after=after.backend,
    )


def _test_change(was: TestResult, now: TestResult) -> TestChange | None:
    moved = not _same(was.points, now.points)
    if was.outcome == now.outcome and not moved:
        return None
    failure = now.message.strip().splitlines()[0][:MESSAGE_SHOWN] if now.message.strip() else ""
    return TestChange(
        id=now.id,
        change="points" if was.outcome == now.outcome else "outcome",
        outcome_before=was.outcome,
        outcome_after=now.outcome,
        points_before=was.points,
        points_after=now.points,
        message=failure if was.passed and not now.passed else "",
    )


def _uncapped(report: Report) -> float | None:
    return report.score if report.uncapped_score is None else report.uncapped_score


def _same(a: float | None, b: float | None) -> bool:
    # Scores and points are rounded to 4 places by scoring.
    return a == b or (a is not None and b is not None and math.isclose(a, b, abs_tol=1e-6))


class Baseline(BaseModel):
    """`FOLDER/.regrade/<submission>.json`: a submission's report to compare with."""

    submission: str
    exercise: ExerciseStamp
    recorded_at: datetime
    report: Report


class SubmissionRegrade(BaseModel):
    name: str
    invitation_id: int | None = None  # --stored: the only names it prints
    position_id: int | None = None
    result: Result
    status: str
    reason: str
    score: float | None
    changes: ReportChanges | None = None


class LargestChange(BaseModel):
    name: str
    delta: float


class RegradeSummary(BaseModel):
    submissions: int
    changed: int
    recorded: int
    largest_change: LargestChange | None


class RegradeOutput(BaseModel):
    """What `--json` prints: one document."""

    exercise: ExerciseStamp
    source: Literal["folder", "stored"]
    folder: str | None
    backend: BackendName
    updated: bool
    submissions: list[SubmissionRegrade]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> RegradeSummary:
        moved = [
            LargestChange(name=s.name, delta=s.changes.delta)
            for s in self.submissions
            if s.changes is not None and s.changes.delta
        ]
        return RegradeSummary(
            submissions=len(self.submissions),
            changed=sum(1 for s in self.submissions if s.result == "changed"),
            recorded=sum(1 for s in self.submissions if s.result == "recorded"),
            largest_change=max(moved, key=lambda m: abs(m.delta), default=None),
        )


@dataclass(frozen=True)
class _Item:
    """One submission to regrade: how to read it and what to compare with."""

    name: str
    source: Path | bytes  # a folder or a zip, or a stored archive
    baseline: Report | None
    invitation_id: int | None = None
    position_id: int | None = None


def regrade_command(
    exercise: Annotated[str, typer.Argument(help="Exercise id, or the path of its folder.")],
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="Folder of submissions (each a .zip or a sub-folder); the baselines are "
            f"kept in its {BASELINES}/.",
        ),
    ] = None,
    stored: Annotated[
        bool,
        typer.Option(
            "--stored",
            help="Instead: the final submissions in the platform's database, against their "
            "latest stored reports; only reads.",
        ),
    ] = False,
    update: Annotated[
        bool,
        typer.Option("--update", help="Replace the baselines with the new reports after printing."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    backend: Annotated[
        BackendName | None,
        typer.Option(help="docker (default when an engine answers) or local (NOT a sandbox)."),
    ] = None,
) -> None:
    """Regrade stored submissions and print what moved per submission and test.
    Exit 0 when nothing changed, 1 when a score or an outcome did, 2 for bad input."""
    if (against is None) == (not stored):
        _refuse("give either --against FOLDER or --stored")
    if stored and update:
        _refuse("--update with --stored: the database is never written")
    loaded = resolve_exercise(exercise)
    items: Iterable[_Item] = (
        _folder_items(against, loaded) if against is not None else _stored_items(loaded)
    )
    options = grading_options(backend)
    results: list[SubmissionRegrade] = []
    updates: list[tuple[Path, Baseline]] = []
    for item in items:
        err_console.print(f"  grading {item.name}", style="dim", markup=False)
        report = grade(loaded, item.source, options=options)
        changes = None if item.baseline is None else compare_reports(item.baseline, report)
        result: Result = "changed" if changes and changes.changed else "unchanged"
        if against is not None:
            baseline = Baseline(
                submission=item.name,
                exercise=ExerciseStamp.of(report),
                recorded_at=datetime.now(UTC),
                report=report,
            )
            if changes is None:  # recorded at once: a long first run may be interrupted
                _write_baseline(_baseline_path(against, item.name), baseline)
            elif update:
                updates.append((_baseline_path(against, item.name), baseline))
        if changes is None:
            result = "recorded" if against is not None else "no-report"
        results.append(
            SubmissionRegrade(
                name=item.name,
                invitation_id=item.invitation_id,
                position_id=item.position_id,
                result=result,
                status=report.status,
                reason=report.reason,
                score=report.score,
                changes=changes,
            )
        )
    output = RegradeOutput(
        exercise=ExerciseStamp(
            id=loaded.id, version=loaded.manifest.version, content_hash=loaded.content_hash
        ),
        source="folder" if against is not None else "stored",
        folder=str(against) if against is not None else None,
        backend=options.sandbox.backend,
        updated=bool(updates),
        submissions=results,
    )
    if as_json:
        sys.stdout.write(output.model_dump_json(indent=2) + "\n")
    else:
        print_output(output, Console(emoji=False, soft_wrap=True, highlight=False))
    for path, baseline in updates:
        _write_baseline(path, baseline)
    if output.summary.changed:
        raise typer.Exit(EXIT_CHANGED)


def _folder_items(folder: Path, exercise: Exercise) -> list[_Item]:
    """The submissions of `folder` by name, each with its baseline, all read
    before anything is graded, so bad input is refused at once."""
    if not folder.is_dir():
        _refuse(f"{folder}: no such folder")
    paths: list[Path] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name in NOT_SUBMISSIONS:
            continue
        if path.is_dir() or path.suffix.lower() == ".zip":
            paths.append(path)
        else:
            err_console.print(f"skipped {path.name}: neither a .zip nor a folder", markup=False)
    if not paths:
        _refuse(f"{folder}: no submissions (each a .zip or a sub-folder)")
    names = {p.name for p in paths}
    for left in sorted((folder / BASELINES).glob("*.json")):
        if left.name.removesuffix(".json") not in names:
            err_console.print(f"kept {left}: its submission is gone", markup=False)
    items = []
    for path in paths:
        stored = _baseline_path(folder, path.name)
        baseline = _read_baseline(stored, exercise) if stored.is_file() else None
        items.append(_Item(name=path.name, source=path, baseline=baseline))
    return items


def _baseline_path(folder: Path, name: str) -> Path:
    return folder / BASELINES / f"{name}.json"


def _read_baseline(path: Path, exercise: Exercise) -> Report:
    try:
        baseline = Baseline.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"{exc.error_count()} error(s)"
        _refuse(f"{path}: not a baseline ({reason}); delete it to record a new one")
    if baseline.exercise.id != exercise.id:
        _refuse(
            f"{path}: a baseline of exercise {baseline.exercise.id!r}, not {exercise.id!r}; "
            f"regrade another folder, or delete {path.parent} to start again"
        )
    return baseline.report


def _write_baseline(path: Path, baseline: Baseline) -> None:
    path.parent.mkdir(exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(baseline.model_dump_json(indent=1) + "\n")
    partial.replace(path)  # a reader never sees half a baseline


def _stored_items(exercise: Exercise) -> Iterator[_Item]:
    """The database's final submissions of `exercise`, each with its latest
    report of a full grading, in short sessions that only read: the list first,
    then each archive and report as it comes to be graded."""
    from sqlmodel import Session, col, select
    from worksample.db import (
        Blob,
        GradingRun,
        Invitation,
        Position,
        Submission,
        SubmissionKind,
        make_engine,
    )

    url = load_settings().effective_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        _refuse(f"no database at {url.removeprefix('sqlite:///')}: set WORKSAMPLE_DATABASE_URL")
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            finals = session.exec(
                select(
                    Submission.id,
                    Submission.archive_blob_id,
                    Submission.invitation_id,
                    Invitation.position_id,
                )
                .join(Invitation, col(Invitation.id) == Submission.invitation_id)
                .join(Position, col(Position.id) == Invitation.position_id)
                .where(Position.exercise_id == exercise.id)
                .where(Submission.kind == SubmissionKind.final)
                .order_by(col(Submission.invitation_id))
            ).all()
            latest: dict[int, int] = {}  # submission -> its latest report's blob
            for submission_id, report_id in session.exec(
                select(GradingRun.submission_id, GradingRun.report_blob_id)
                .where(col(GradingRun.submission_id).in_([f[0] for f in finals]))
                .where(col(GradingRun.public_only).is_(False))
                .order_by(col(GradingRun.id))
            ):
                if report_id is not None:  # a run that ended in an error has none
                    latest[submission_id] = report_id
        if not finals:
            _refuse(f"no final submissions of {exercise.id} in the database")
        for final_id, archive_id, invitation_id, position_id in finals:
            with Session(engine) as session:
                archive = session.get(Blob, archive_id)
                assert archive is not None  # a foreign key: it cannot be missing
                report_id = latest.get(final_id) if final_id is not None else None
                stored = None if report_id is None else session.get(Blob, report_id)
                yield _Item(
                    name=f"invitation {invitation_id} (position {position_id})",
                    source=archive.data,
                    baseline=None if stored is None else Report.model_validate_json(stored.data),
                    invitation_id=invitation_id,
                    position_id=position_id,
                )
    finally:
        engine.dispose()


def _refuse(message: str) -> NoReturn:
    err_console.print(message, markup=False, style="red")
    raise typer.Exit(EXIT_REFUSED)


def print_output(output: RegradeOutput, console: Console) -> None:
    ex = output.exercise
    n = len(output.submissions)
    where = f"{_count(n, 'submission')} in {output.folder}"
    if output.folder is None:
        where = f"{_count(n, 'final submission')} in the database"
    sandbox = "" if output.backend == "docker" else " (NOT sandboxed)"
    console.print(
        Text(
            f"Regrade of {ex.id} {ex.version} ({ex.content_hash[:12]}): "
            f"{where}, {output.backend} backend{sandbox}"
        )
    )
    olds = {
        (c.exercise_before.version, c.exercise_before.content_hash)
        for s in output.submissions
        if (c := s.changes) is not None
    }
    if olds:
        kind = "baselines" if output.source == "folder" else "stored reports"
        said = ", ".join(f"{version} ({digest[:12]})" for version, digest in sorted(olds))
        same = ": the same exercise" if olds == {(ex.version, ex.content_hash)} else ""
        console.print(Text(f"against {kind} of {said}{same}"))
    width = max(len(s.name) for s in output.submissions)
    for s in output.submissions:
        print_submission(s, width, console)
    summary = output.summary
    line = f"{_count(summary.submissions, 'submission')}, {summary.changed} changed"
    if summary.recorded:
        line += f", {_count(summary.recorded, 'baseline')} recorded"
    if (largest := summary.largest_change) is not None:
        line += f"; largest change {largest.name} {largest.delta:+.2f}"
    console.print(Text(line, style="bold"))
    if output.source == "folder" and summary.recorded < summary.submissions:
        console.print("baselines replaced" if output.updated else "baselines kept (--update)")


def print_submission(s: SubmissionRegrade, width: int, console: Console) -> None:
    now = _total(s.status, s.score)
    c = s.changes
    if c is None:
        said = "baseline recorded" if s.result == "recorded" else "no stored report to compare"
        console.print(Text(f"{s.name:<{width}}  {now:>8}  ") + Text(said, style="dim"))
        if s.status != "graded":
            console.print(Text(f"    {_why(s.status, s.reason)}"))
        return
    head = Text(f"{s.name:<{width}}  {_total(c.status_before, c.score_before):>8} → {now:<8}  ")
    head += Text(s.result, style="yellow" if c.changed else "green")
    if c.delta:
        head += f" {c.delta:+.2f}"
    console.print(head)
    for line in _details(c):
        console.print(Text(f"    {line}"))


def _details(c: ReportChanges) -> Iterator[str]:
    if c.status_after != "graded" and c.status_before != c.status_after:
        yield _why(c.status_after, c.reason_after)
    capped = not _same(c.uncapped_before, c.score_before) or not _same(
        c.uncapped_after, c.score_after
    )
    if capped and not _same(c.uncapped_before, c.uncapped_after):
        yield f"before the knock-outs' caps {_points(c.uncapped_before)} → " + _points(
            c.uncapped_after
        )
    before, after = {k.id for k in c.knockouts_before}, {k.id for k in c.knockouts_after}
    for k in c.knockouts_after:
        if k.id not in before:
            yield f"knock-out {k.id} now applies: {k.label} (cap {k.cap:g})"
    for k in c.knockouts_before:
        if k.id not in after:
            yield f"knock-out {k.id} no longer applies: {k.label} (cap {k.cap:g})"
    for t in c.tests:
        yield f"{t.id}  {_test(t)}"
        if t.message:
            yield f"  {t.message}"
    if c.submission_changed:
        yield "the submission's files differ from before: the move may be the work's"
    if c.backend_before != c.backend_after:
        yield f"graded on the {c.backend_before} backend before, on {c.backend_after} now"


def _test(t: TestChange) -> str:
    if t.change == "added":
        return f"added to the suite: {t.outcome_after}, {_points(t.points_after)} points"
    if t.change == "removed":
        return f"removed from the suite: was {t.outcome_before}, {_points(t.points_before)} points"
    moved = f"{t.outcome_before} → {t.outcome_after}" if t.change == "outcome" else t.outcome_after
    if not _same(t.points_before, t.points_after):
        moved = f"{moved}, points {_points(t.points_before)} → {_points(t.points_after)}"
    return str(moved)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _why(status: str, reason: str) -> str:
    return reason if reason.startswith(f"{status}:") else f"{status}: {reason}"


def _total(status: str, score: float | None) -> str:
    return f"{score:.2f}" if status == "graded" and score is not None else status


def _points(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}"
