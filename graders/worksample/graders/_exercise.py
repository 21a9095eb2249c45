"""Exercise packages: `exercises/<id>/`, its manifest, and its content hash.

A manifest is parsed once into `Manifest`; everything after that takes typed
objects. Errors name the file, the field and what is wrong, because the person
reading them is an exercise author with the file open.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from worksample.graders._files import is_skipped, walk_files
from worksample.graders._intake import _CONTROL, _DRIVE  # the names intake refuses, too
from worksample.graders._rubric import RUBRIC_CRITERIA, Rubric
from worksample.sandboxes import Limits

MANIFEST = "exercise.toml"
EXPECTED = "expected.toml"
REQUIRED_PARTS = ("brief.md", "starter", "hidden", "reference")
_ID = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
DEBRIEF_PROMPTS = (2, 4)  # how many follow-up questions a category gives the interviewer
M = TypeVar("M", bound=BaseModel)


class TestLike(Protocol):
    """What a knock-out reads of a test's result (a report's `TestResult`)."""

    @property
    def id(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def passed(self) -> bool: ...


class ExerciseError(Exception):
    """An exercise package is invalid; the message says where and why."""


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Used by @category(name).")
    weight: float = Field(gt=0, description="Relative weight; weights are normalised to 100.")
    description: str = Field(min_length=1, description="What a reviewer should know.")
    debrief: list[str] = Field(
        default_factory=list,
        validate_default=True,  # so a category without the field gets the same message
        description="2 to 4 prompts for the follow-up interview, specific to the exercise.",
    )

    @field_validator("debrief")
    @classmethod
    def _prompts(cls, prompts: list[str], info: ValidationInfo) -> list[str]:
        name = info.data.get("name", "?")
        low, high = DEBRIEF_PROMPTS
        cleaned = [" ".join(p.split()) for p in prompts]
        if not low <= len(cleaned) <= high:
            raise ValueError(
                f"category {name!r} has {len(cleaned)} debrief prompt(s); give {low} to {high} "
                "questions for the follow-up interview, specific to this exercise and category "
                '(debrief = ["Walk me through ...", ...])'
            )
        empty = [str(i + 1) for i, p in enumerate(cleaned) if not p]
        if empty:
            raise ValueError(f"category {name!r}: debrief prompt {', '.join(empty)} is empty")
        return cleaned


class Critical(BaseModel):
    """`[[critical]]`: a knock-out. When one of its tests (or any test of its
    category) does not pass, the total is capped at `cap` and the report, the
    candidate's file and the pipeline say `label`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="Stable key of the knock-out.")
    label: str = Field(
        min_length=1,
        max_length=120,
        description="What the work did, as a reviewer reads it: 'issued a refund the policy "
        "forbids'.",
    )
    cap: float = Field(ge=0, lt=100, description="The highest total a knocked-out grading gets.")
    tests: list[str] = Field(
        default_factory=list,
        description="Hidden test ids (as reports name them); any one not passing knocks out.",
    )
    category: str | None = Field(
        None, description="Or a category: any of its tests not passing knocks out."
    )

    @field_validator("label")
    @classmethod
    def _one_line(cls, value: str) -> str:
        cleaned = " ".join(value.split())
        if not cleaned:
            raise ValueError("label is empty; say what the work did")
        return cleaned

    @model_validator(mode="after")
    def _one_kind(self) -> Critical:
        if bool(self.tests) == (self.category is not None):
            raise ValueError(
                f"critical {self.id!r}: give either `tests` (a list of hidden test ids) or "
                "`category`, not both and not neither"
            )
        duplicates = sorted({t for t in self.tests if self.tests.count(t) > 1})
        if duplicates:
            raise ValueError(f"critical {self.id!r}: test(s) listed twice: {duplicates}")
        return self

    def knocked_out(self, tests: Sequence[TestLike]) -> list[str]:
        """The ids of the tests that trigger this knock-out, in the given order;
        tests that did not run (a practice run's public-only grading) do not."""
        if self.category is not None:
            return [t.id for t in tests if t.category == self.category and not t.passed]
        wanted = set(self.tests)
        return [t.id for t in tests if t.id in wanted and not t.passed]


class Grading(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_s: float = Field(1800, gt=0, le=6 * 3600, description="Wall budget of the suite.")
    provided: list[str] = Field(
        default_factory=list,
        description="Starter files the grader puts over the submission (e.g. data/train.csv).",
    )


class SubmissionRules(BaseModel):
    """`[submission]`: what every submission must hold, so intake knows where its tree starts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    required: list[str] = Field(
        min_length=1,
        description="Files every submission holds, relative to its top (solution/__main__.py).",
    )

    @field_validator("required")
    @classmethod
    def _relative_files(cls, paths: list[str]) -> list[str]:
        for path in paths:
            problem = _path_problem(path)
            if problem:
                raise ValueError(f"{path!r} {problem}")
        return paths


def _path_problem(path: str) -> str | None:
    """Why `path` cannot name a file of a submission, or None."""
    parts = path.split("/")
    if "\\" in path:
        return "has a backslash; separate folders with '/'"
    if path.startswith("/") or _DRIVE.match(path):
        return "is absolute; give it relative to the submission's top"
    if ".." in parts:
        return "has a '..' component"
    if any(part in ("", ".") for part in parts):
        return "has an empty or '.' component (or ends with '/'); name a file"
    if _CONTROL.search(path):
        return "has a control character"
    if is_skipped(tuple(parts)):
        return "is a cache or metadata path, which intake always drops"
    return None


def _nothing_required() -> SubmissionRules:
    # No `[submission]` table: no path is required, and intake keeps its older rule
    # (a zip's single wrapping folder is always stripped). Built without validation,
    # because a table that is there must name at least one path.
    return SubmissionRules.model_construct(required=[])


class Validate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    starter_max_score: float = Field(20, ge=0, le=100, description="Highest score of starter/.")
    weak_profiles: int = Field(
        2, ge=0, le=20, description="How many weak-candidate profiles weak/ must hold at least."
    )


class Manifest(BaseModel):
    """`exercise.toml`. Every field is documented in docs/authoring.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Folder name; lowercase letters, digits and dashes.")
    title: str = Field(min_length=1, max_length=120)
    track: Literal["ml", "ai"]
    version: str = Field(min_length=1, max_length=40, description="The author's version.")
    summary: str = Field(min_length=1, description="One paragraph for hiring teams.")
    effort_hours: float = Field(gt=0, le=40, description="Expected candidate effort.")
    sandbox: Limits = Field(default_factory=Limits, description="Limits of the grading sandbox.")
    grading: Grading = Field(default_factory=Grading)
    submission: SubmissionRules = Field(default_factory=_nothing_required)
    categories: list[Category] = Field(min_length=1)
    rubric: Rubric = Field(
        None,  # so a manifest without `[rubric]` gets _required_rubric's words
        validate_default=True,
        description="For human reviewers: criteria with four level anchors each, and guidance.",
    )
    budgets: dict[str, float] = Field(
        default_factory=dict,
        description="Named resource budgets the hidden suite enforces (e.g. train_wall_s).",
    )
    critical: list[Critical] = Field(
        default_factory=list,
        description="Knock-outs: failures that cap the total whatever else passes.",
    )
    validate_: Validate = Field(default_factory=Validate, alias="validate")

    @field_validator("rubric", mode="before")
    @classmethod
    def _required_rubric(cls, value: object) -> object:
        if value is None:
            low, high = RUBRIC_CRITERIA
            raise ValueError(
                "the manifest has no [rubric]; give reviewers one: `guidance` and "
                f"{low} to {high} [[rubric.criteria]] with four level anchors each "
                "(see docs/authoring.md)"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> Manifest:
        if not _ID.match(self.id):
            raise ValueError(f"id {self.id!r} must be lowercase letters, digits and dashes")
        names = [c.name for c in self.categories]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"categories: duplicate name(s) {', '.join(duplicates)}")
        ids = [c.id for c in self.critical]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"critical: duplicate id(s) {', '.join(twice)}")
        for knockout in self.critical:
            if knockout.category is not None and knockout.category not in names:
                raise ValueError(
                    f"critical {knockout.id!r}: category {knockout.category!r} is not one of "
                    f"{', '.join(names)}"
                )
        return self

    def category(self, name: str) -> Category | None:
        return next((c for c in self.categories if c.name == name), None)


# The bands `exercises validate` holds solutions to (docs/authoring.md, "Calibration").
FAULTY_BELOW = 90.0  # a solution with one real defect
COSMETIC_AT_LEAST = 85.0  # an honest solution whose one flaw is cosmetic
WEAK_AT_MOST = 60.0  # a weak candidate's plausible work, two or three realistic flaws


class FaultyExpectation(BaseModel):
    """`faulty/<name>/expected.toml`: a solution with exactly one defect."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    fails: list[str] = Field(min_length=1, description="Test ids this solution must fail.")
    cosmetic: bool = Field(
        False,
        description=f"The defect is cosmetic (a traceback instead of a clean message): the "
        f"total must be at least {COSMETIC_AT_LEAST:g}, not below {FAULTY_BELOW:g}.",
    )
    score: tuple[float, float] | None = Field(
        None, description="[lowest, highest] total it may get, both included."
    )

    @model_validator(mode="after")
    def _band(self) -> FaultyExpectation:
        if self.score is not None:
            low, high = _checked_band(self.score)
            if self.cosmetic and low < COSMETIC_AT_LEAST:
                raise ValueError(
                    f"score: a cosmetic defect's band starts at {COSMETIC_AT_LEAST:g} or above"
                )
            if not self.cosmetic and high >= FAULTY_BELOW:
                raise ValueError(
                    f"score: a real defect's band ends below {FAULTY_BELOW:g} (a cosmetic one "
                    "says `cosmetic = true`)"
                )
        return self


class WeakExpectation(BaseModel):
    """`weak/<name>/expected.toml`: a weaker candidate's plausible submission."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1, description="Who writes this, and how.")
    flaws: list[str] = Field(
        min_length=2, max_length=3, description="Its two or three realistic flaws."
    )
    fails: list[str] = Field(min_length=1, description="Test ids this solution must fail.")
    score: tuple[float, float] = Field(description="[lowest, highest] total, both included.")

    @field_validator("score")
    @classmethod
    def _weak_band(cls, band: tuple[float, float]) -> tuple[float, float]:
        _, high = _checked_band(band)
        if high > WEAK_AT_MOST:
            raise ValueError(f"a weak profile's band ends at {WEAK_AT_MOST:g} or below")
        return band


def _checked_band(band: tuple[float, float]) -> tuple[float, float]:
    low, high = band
    if not 0 <= low <= high <= 100:
        raise ValueError(f"score band {list(band)} must be [lowest, highest] within 0 to 100")
    return low, high


class Exercise:
    """A loaded, validated exercise folder."""

    def __init__(self, root: Path, manifest: Manifest) -> None:
        self.root = root
        self.manifest = manifest

    @functools.cached_property
    def content_hash(self) -> str:
        """The folder's content hash, computed when first asked for (pages that
        show an exercise never need it) and once per process and content."""
        return content_hash(self.root)

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def hidden_dir(self) -> Path:
        return self.root / "hidden"

    @property
    def starter_dir(self) -> Path:
        return self.root / "starter"

    @property
    def public_tests_dir(self) -> Path:
        return self.root / "starter" / "tests"

    @property
    def reference_dir(self) -> Path:
        return self.root / "reference"

    def faulty(self) -> dict[str, tuple[Path, FaultyExpectation]]:
        """`faulty/<name>/`: solutions with exactly one defect each."""
        return self._solutions("faulty", FaultyExpectation)

    def weak(self) -> dict[str, tuple[Path, WeakExpectation]]:
        """`weak/<name>/`: weak-candidate profiles, two or three flaws each."""
        return self._solutions("weak", WeakExpectation)

    def _solutions(self, kind: str, model: type[M]) -> dict[str, tuple[Path, M]]:
        found: dict[str, tuple[Path, M]] = {}
        folder = self.root / kind
        if not folder.is_dir():
            return found
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            found[sub.name] = (sub, _parse(sub / EXPECTED, model))
        return found


def load_exercise(root: Path) -> Exercise:
    root = root.resolve()
    if not root.is_dir():
        raise ExerciseError(f"{root}: no such exercise folder")
    manifest = _parse(root / MANIFEST, Manifest)
    if manifest.id != root.name:
        raise ExerciseError(
            f"{root / MANIFEST}: id {manifest.id!r} must match the folder name {root.name!r}"
        )
    for part in REQUIRED_PARTS:
        if not (root / part).exists():
            raise ExerciseError(f"{root}: missing {part}")
    for rel in manifest.grading.provided:
        if not (root / "starter" / rel).is_file():
            raise ExerciseError(f"{root / MANIFEST}: grading.provided: starter/{rel} is missing")
    for rel in manifest.submission.required:
        if not (root / "reference" / rel).is_file():
            raise ExerciseError(
                f"{root / MANIFEST}: submission.required: reference/{rel} is missing"
            )
    return Exercise(root, manifest)


def find_exercise(exercises_dir: Path, exercise_id: str) -> Exercise:
    path = exercises_dir / exercise_id
    if not (path / MANIFEST).is_file():
        known = ", ".join(e.name for e in list_exercise_dirs(exercises_dir)) or "none"
        raise ExerciseError(f"no exercise {exercise_id!r} in {exercises_dir} (known: {known})")
    return load_exercise(path)


def list_exercise_dirs(exercises_dir: Path) -> list[Path]:
    if not exercises_dir.is_dir():
        return []
    return sorted(p for p in exercises_dir.iterdir() if (p / MANIFEST).is_file())


def content_hash(root: Path) -> str:
    """sha256 over every file's relative path and bytes (what `walk_files` skips
    excluded). Kept per process, keyed by the folder and every file's path, size
    and modification time, so an edited exercise is hashed again and an
    unchanged one never is."""
    files = tuple((rel, path.stat()) for rel, path in walk_files(root))
    stamp = tuple((rel, st.st_size, st.st_mtime_ns, st.st_ino) for rel, st in files)
    return _hash_folder(root, stamp)


@functools.lru_cache(maxsize=256)
def _hash_folder(root: Path, stamp: tuple[tuple[str, int, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for rel_path, *_ in stamp:
        rel = rel_path.encode()
        data = (root / rel_path).read_bytes()
        digest.update(len(rel).to_bytes(4, "big") + rel + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _parse(path: Path, model: type[M]) -> M:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExerciseError(f"{path}: file is missing") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ExerciseError(f"{path}: not valid TOML: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            problems.append(f"{path}: {where}: {_message(err)}")
        raise ExerciseError("\n".join(problems)) from None


def _message(err: object) -> str:
    assert isinstance(err, dict)
    if err.get("type") == "extra_forbidden":
        return "unknown field (see docs/authoring.md for the fields a manifest takes)"
    if err.get("type") == "missing":
        return "required field is missing"
    if err.get("type") == "value_error" and "error" in (err.get("ctx") or {}):
        return str(err["ctx"]["error"])  # our own words, without pydantic's "Value error, "
    return str(err.get("msg", "invalid"))
