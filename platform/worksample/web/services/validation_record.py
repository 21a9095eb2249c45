"""What the last `worksample exercises validate` of an exercise found on this
installation, kept as `<data dir>/validations/<exercise id>.json`.

`exercises validate` writes it (`record_validation`) after grading the
exercise's own solutions; the exercise catalogue reads it (`read_validation`)
and compares its content hash with the folder's, so a page can say "not
validated on this installation" or "validated for an older version". The file
is replaced atomically: a reader sees the previous record or the new one,
never half of one.

A `Finding` carries its check, whether it held, a sentence, and for a check
that graded a solution its total and the knock-outs it triggered.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from worksample.graders import Exercise, Finding, grader_version

VALIDATIONS = "validations"
SolutionKind = Literal["reference", "starter", "faulty", "weak"]
_EXERCISE_ID = re.compile(r"^[a-z][a-z0-9-]{1,62}$")  # the manifest's rule for ids


class ValidationRecordError(Exception):
    """A validation record cannot be read; the message says which file and why."""


class CheckRecord(BaseModel):
    """One finding of the validation, as `exercises validate` printed it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str
    ok: bool
    detail: str


class SolutionRecord(BaseModel):
    """A solution the validation graded: its total and the knock-outs it triggered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="`reference`, `starter`, `faulty/<name>` or `weak/<name>`.")
    kind: SolutionKind
    ok: bool = Field(description="It landed where the exercise declares.")
    score: float | None = Field(description="Its total; None when it was not graded.")
    knockouts: list[str] = Field(default_factory=list, description="Ids of `[[critical]]`.")
    detail: str


class ValidationRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal[1] = 1
    exercise_id: str
    version: str = Field(description="The author's version in the manifest.")
    content_hash: str = Field(description="sha256 of the exercise folder that was validated.")
    grader_version: str
    validated_at: datetime
    checks: list[CheckRecord]
    solutions: list[SolutionRecord]

    @property
    def problems(self) -> int:
        return sum(not c.ok for c in self.checks)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and self.problems == 0

    def solution(self, name: str) -> SolutionRecord | None:
        return next((s for s in self.solutions if s.name == name), None)


def validation_path(data_dir: Path, exercise_id: str) -> Path:
    if not _EXERCISE_ID.match(exercise_id):
        raise ValueError(f"{exercise_id!r} is not an exercise id")
    return data_dir / VALIDATIONS / f"{exercise_id}.json"


def record_validation(
    *,
    exercise: Exercise,
    findings: Sequence[Finding],
    data_dir: Path,
    when: datetime | None = None,
) -> Path:
    """Write what `validate_exercise(exercise)` found as the exercise's record
    in `data_dir`, replacing the last one atomically; returns its path."""
    record = ValidationRecord(
        exercise_id=exercise.id,
        version=exercise.manifest.version,
        content_hash=exercise.content_hash,
        grader_version=grader_version(),
        validated_at=when or datetime.now(UTC),
        checks=[CheckRecord(check=f.check, ok=f.ok, detail=f.detail) for f in findings],
        solutions=_solutions(findings),
    )
    path = validation_path(data_dir, exercise.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(record.model_dump_json(indent=2))
            out.flush()
            os.fsync(out.fileno())
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return path


def read_validation(*, data_dir: Path, exercise_id: str) -> ValidationRecord | None:
    """The exercise's last record on this installation, or None when it was
    never validated here; ValidationRecordError when the file is damaged."""
    path = validation_path(data_dir, exercise_id)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValidationRecordError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        record = ValidationRecord.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ValidationRecordError(
            f"{path}: not a validation record ({where}: {first['msg']}); run "
            f"`worksample exercises validate {exercise_id}` again"
        ) from None
    if record.exercise_id != exercise_id:
        raise ValidationRecordError(f"{path}: holds the record of {record.exercise_id!r}")
    return record


def _solutions(findings: Sequence[Finding]) -> list[SolutionRecord]:
    found: list[SolutionRecord] = []
    for finding in findings:
        kind = _kind(finding.check)
        if kind is None:
            continue
        name = finding.check if kind in ("faulty", "weak") else kind
        found.append(
            SolutionRecord(
                name=name,
                kind=kind,
                ok=finding.ok,
                score=finding.score,
                knockouts=list(finding.knockouts),
                detail=finding.detail,
            )
        )
    return found


def _kind(check: str) -> SolutionKind | None:
    if check == "reference scores 100":
        return "reference"
    if check.startswith("starter scores at most"):
        return "starter"
    if check.startswith("faulty/"):
        return "faulty"
    if check.startswith("weak/"):
        return "weak"
    return None
