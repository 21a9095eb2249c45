"""The exercise catalogue for staff: every installed exercise with what it
tells apart (its summary and its categories' descriptions), how it scores, its
knock-outs and rubric, whether `exercises validate` proved it on this
installation, and the candidate's page as a preview.

Exercises are files, not rows: nothing here touches the database, and every
staff role of every organisation sees the same installed exercises.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from worksample.graders import (
    Criterion,
    Exercise,
    ExerciseError,
    content_hash,
    find_exercise,
    list_exercise_dirs,
    load_exercise,
)
from worksample.web.services.errors import NotFound
from worksample.web.services.validation_record import (
    ValidationRecord,
    ValidationRecordError,
    read_validation,
)

# What the preview shows as the deadline: the new-position form's default window.
EXAMPLE_WINDOW_DAYS = 7
EXAMPLE_PRACTICE_RUNS = 3  # and its default number of practice runs


class ValidationStatus(StrEnum):
    not_validated = "not_validated"
    validated = "validated"  # for the exercise's current content
    outdated = "outdated"  # for other content: an older (or newer) version
    unreadable = "unreadable"


@dataclass(frozen=True)
class Validation:
    status: ValidationStatus
    record: ValidationRecord | None = None
    problem: str = ""  # why the record is unreadable


@dataclass(frozen=True)
class ExerciseCard:
    exercise: Exercise
    validation: Validation

    @property
    def id(self) -> str:
        return self.exercise.id

    @property
    def title(self) -> str:
        return self.exercise.manifest.title

    @property
    def track(self) -> str:
        return self.exercise.manifest.track

    @property
    def effort_hours(self) -> float:
        return self.exercise.manifest.effort_hours

    @property
    def summary(self) -> str:
        return " ".join(self.exercise.manifest.summary.split())


@dataclass(frozen=True)
class BrokenExercise:
    """A folder with a manifest that does not load; its error, for whoever installed it."""

    name: str
    error: str


@dataclass(frozen=True)
class Catalogue:
    cards: list[ExerciseCard]
    broken: list[BrokenExercise]


@dataclass(frozen=True)
class CategoryView:
    name: str
    weight: float
    share: float  # of the total, in points out of 100
    description: str


@dataclass(frozen=True)
class CriterionView:
    criterion: Criterion
    share: float  # of the rubric total, in percent


@dataclass(frozen=True)
class ExerciseDetail:
    card: ExerciseCard
    content_hash: str
    categories: list[CategoryView]
    criteria: list[CriterionView]
    guidance: list[str]  # the rubric's paragraphs
    knockout_labels: dict[str, str]  # `[[critical]]` id to label


def list_catalogue(*, exercises_dir: Path, data_dir: Path) -> Catalogue:
    cards, broken = [], []
    for path in list_exercise_dirs(exercises_dir):
        try:
            exercise = load_exercise(path)
        except ExerciseError as exc:
            broken.append(BrokenExercise(path.name, str(exc)))
            continue
        cards.append(ExerciseCard(exercise, validation_of(exercise, data_dir=data_dir)))
    cards.sort(key=lambda c: (c.track, c.title))
    return Catalogue(cards, broken)


def get_exercise(*, exercises_dir: Path, exercise_id: str) -> Exercise:
    """An installed exercise by id; anything else (an unknown id, a folder
    whose manifest does not load) is not found."""
    if exercise_id not in {p.name for p in list_exercise_dirs(exercises_dir)}:
        raise NotFound
    try:
        return find_exercise(exercises_dir, exercise_id)
    except ExerciseError:
        raise NotFound from None


def exercise_detail(*, exercises_dir: Path, data_dir: Path, exercise_id: str) -> ExerciseDetail:
    exercise = get_exercise(exercises_dir=exercises_dir, exercise_id=exercise_id)
    manifest = exercise.manifest
    weights = sum(c.weight for c in manifest.categories)
    rubric = manifest.rubric
    rubric_weights = sum(c.weight for c in rubric.criteria)
    return ExerciseDetail(
        card=ExerciseCard(exercise, validation_of(exercise, data_dir=data_dir)),
        content_hash=content_hash(exercise.root),
        categories=[
            CategoryView(
                c.name, c.weight, 100 * c.weight / weights, " ".join(c.description.split())
            )
            for c in manifest.categories
        ],
        criteria=[CriterionView(c, 100 * c.weight / rubric_weights) for c in rubric.criteria],
        guidance=rubric.guidance.split("\n\n"),
        knockout_labels={k.id: k.label for k in manifest.critical},
    )


def validation_of(exercise: Exercise, *, data_dir: Path) -> Validation:
    """The last validation on this installation, and whether it was of this content."""
    try:
        record = read_validation(data_dir=data_dir, exercise_id=exercise.id)
    except ValidationRecordError as exc:
        return Validation(ValidationStatus.unreadable, problem=str(exc))
    if record is None:
        return Validation(ValidationStatus.not_validated)
    # The folder's hash, not the Exercise's cached one: a record read for a
    # page must be compared with the folder as it is now.
    current = content_hash(exercise.root) == record.content_hash
    return Validation(ValidationStatus.validated if current else ValidationStatus.outdated, record)


# --- the preview ---------------------------------------------------------------


@dataclass(frozen=True)
class PreviewInvitation:
    """What the candidate's page reads of an invitation, for one that is not there."""

    deadline_at: datetime
    started_at: datetime
    candidate_name: str = "Candidate"
    revoked_at: None = None


@dataclass(frozen=True)
class PreviewPosition:
    title: str
    practice_runs: int = EXAMPLE_PRACTICE_RUNS


@dataclass(frozen=True)
class CandidatePreview:
    exercise: Exercise
    brief: str
    invitation: PreviewInvitation
    position: PreviewPosition


def candidate_preview(*, exercises_dir: Path, exercise_id: str, now: datetime) -> CandidatePreview:
    """The candidate's page of a fresh invitation whose clock just started: the
    brief, an example deadline (`EXAMPLE_WINDOW_DAYS` from `now`), the kit and
    the uploads (which the page shows disabled)."""
    exercise = get_exercise(exercises_dir=exercises_dir, exercise_id=exercise_id)
    return CandidatePreview(
        exercise=exercise,
        brief=(exercise.root / "brief.md").read_text(encoding="utf-8"),
        invitation=PreviewInvitation(
            deadline_at=now + timedelta(days=EXAMPLE_WINDOW_DAYS), started_at=now
        ),
        position=PreviewPosition(title="your position's title"),
    )
