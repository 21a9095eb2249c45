"""The graded report: what reviewers read and what the platform stores.

Versioned by `schema_version`; every field a consumer may rely on is here, and
every field added since version 1 has a default, so a stored report of any
version loads. Version 2 added each test's description and points, the
categories' debrief prompts, the manifest's budgets, each call's timeout, the
sandbox start-up times and the images' digests; a version 1 report gets its
points (and its image digest) filled in from what it holds when it is loaded.
Version 3 added the knock-outs (`knockouts`, `uncapped_score`).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator
from worksample.graders._points import split_points
from worksample.sandboxes import Limits

SCHEMA_VERSION = 3
MESSAGE_CAP = 4000
OUTPUT_CAP = 4000

Outcome = Literal["passed", "failed", "error", "skipped"]
Status = Literal["graded", "rejected", "error"]


class CandidateCall(BaseModel):
    """One command or function call a test made into the sandbox."""

    model_config = ConfigDict(frozen=True)

    argv: list[str]
    exit_code: int | None
    timed_out: bool
    oom_killed: bool
    sandbox_lost: bool = False
    wall_s: float
    peak_memory_bytes: int | None
    timeout_s: float | None = Field(
        None,
        description="The wall-time limit this call ran under: its own timeout, else the "
        "manifest's `sandbox.call_timeout_s` (None in reports before schema 2).",
    )
    stdout: str = Field(description="Capped; decoded as UTF-8 with replacement.")
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool


class TestResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Node id relative to the exercise folder.")
    name: str
    category: str
    weight: float
    outcome: Outcome
    public: bool
    duration_s: float
    message: str = Field("", description=f"Capped at {MESSAGE_CAP} characters.")
    description: str = Field(
        "",
        description="The test's docstring (inspect.cleandoc): what it checks and what a "
        "failure tells a reviewer. Empty in reports before schema 2.",
    )
    points: float = Field(
        0.0,
        description="What the test is worth, out of 100: its category's share of the total "
        "split by test weight. The points of a grading's tests sum to 100.",
    )
    calls: list[CandidateCall] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether the test earns its points: only a pass does (a skip, an xfail, a
        failure and an error in set-up all count as not passed)."""
        return self.outcome == "passed"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def points_earned(self) -> float:
        return self.points if self.passed else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def points_lost(self) -> float:
        return 0.0 if self.passed else self.points

    @property
    def summary(self) -> str:
        """The description's first sentence, on one line."""
        return first_sentence(self.description)


class CategoryScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    weight: float = Field(description="Share of the total, out of 100.")
    score: float = Field(description="Weighted share of passed tests, 0-100.")
    passed: int
    total: int
    debrief: list[str] = Field(
        default_factory=list,
        description="The exercise's prompts for the follow-up interview on this category "
        "(the manifest's `categories.debrief`; empty in reports before schema 2).",
    )


class Knockout(BaseModel):
    """A `[[critical]]` of the manifest that this grading triggered."""

    model_config = ConfigDict(frozen=True)

    id: str
    label: str = Field(description="What the work did, for reviewers.")
    cap: float = Field(description="The highest total it allows.")
    tests: list[str] = Field(description="The tests that did not pass and triggered it.")


class Resources(BaseModel):
    model_config = ConfigDict(frozen=True)

    peak_memory_bytes: int | None = None
    candidate_wall_s: float = 0.0
    calls: int = 0
    sandbox_restarts: int = 0


class Timings(BaseModel):
    model_config = ConfigDict(frozen=True)

    intake_s: float = 0.0
    suite_s: float = Field(0.0, description="The pytest run, the sandbox's start included.")
    sandbox_start_s: float = Field(
        0.0,
        description="Within suite_s: starting the candidate's sandbox and copying the "
        "submission in.",
    )
    llm_start_s: float = Field(
        0.0, description="Within suite_s, AI track: starting the grading's mock LLM."
    )
    total_s: float = 0.0


class ExerciseRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    version: str
    content_hash: str


class ImageRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    tag: str
    id: str
    digest: str = Field(
        "",
        description="The image's content digest. The images are built on the worker and never "
        "pushed, so the engine has no registry digest for them: this is the engine's image id "
        "(the sha256 of the image's configuration), and `digest_source` says so.",
    )
    digest_source: Literal["image-id", "registry"] = "image-id"

    @model_validator(mode="before")
    @classmethod
    def _digest_from_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("digest") and data.get("id"):
            return {**data, "digest": data["id"], "digest_source": "image-id"}
        return data


class Report(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_version: int = SCHEMA_VERSION
    status: Status
    reason: str = Field("", description="Why a submission was rejected or grading failed.")
    score: float | None = Field(None, description="0-100 when graded, knock-outs applied.")
    uncapped_score: float | None = Field(
        None,
        description="The total before the knock-outs' caps (None: the same as `score`, as in "
        "reports before schema 3).",
    )
    knockouts: list[Knockout] = Field(
        default_factory=list, description="The manifest's `[[critical]]` items this work failed."
    )
    public_only: bool = False
    categories: list[CategoryScore] = Field(default_factory=list)
    tests: list[TestResult] = Field(default_factory=list)
    resources: Resources = Field(default_factory=Resources)
    timings: Timings = Field(default_factory=Timings)
    exercise: ExerciseRef
    submission_sha256: str | None = None
    backend: str
    sandboxed: bool
    runtime_requested: str | None = Field(
        None, description="The OCI runtime the settings asked for (None: the engine's default)."
    )
    runtimes: list[str] = Field(
        default_factory=list,
        description="The OCI runtimes the grading's containers actually ran under, read from "
        "the engine (`local` for the unsandboxed backend).",
    )
    image: ImageRef | None = None
    llm_image: ImageRef | None = Field(None, description="AI track: the mock LLM's image.")
    limits: Limits = Field(
        description="The sandbox limits the calls ran under (the manifest's `[sandbox]`): a "
        "call's `peak_memory_bytes` is measured against `memory_mb`, its `wall_s` against "
        "its own `timeout_s`."
    )
    budgets: dict[str, float] = Field(
        default_factory=dict,
        description="The manifest's `[budgets]`, which the hidden suite enforces itself.",
    )
    grader_version: str

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """A report of schema 1 carries no points: give its tests theirs from its own
        categories' shares and its tests' weights, by the rule the score used."""
        if not isinstance(data, dict) or data.get("schema_version", SCHEMA_VERSION) >= 2:
            return data
        shares = {c["name"]: c["weight"] for c in data.get("categories") or []}
        tests = [t for t in data.get("tests") or [] if isinstance(t, dict)]
        if len(tests) != len(data.get("tests") or []):
            return data
        upgraded = list(tests)
        for name, share in shares.items():
            mine = [i for i, t in enumerate(tests) if t.get("category") == name]
            points = split_points(share, [float(tests[i]["weight"]) for i in mine])
            for i, worth in zip(mine, points, strict=True):
                upgraded[i] = {**tests[i], "points": worth}
        return {**data, "tests": upgraded}

    @property
    def capped_by(self) -> float:
        """The points the knock-outs took on top of the tests' own losses."""
        if self.uncapped_score is None or self.score is None:
            return 0.0
        return round(self.uncapped_score - self.score, 4)

    @property
    def losses(self) -> list[TestResult]:
        """The tests that cost points, the largest loss first (ties by id). Their
        `points_lost` sum to 100 - score, up to rounding, plus `capped_by`."""
        lost = [t for t in self.tests if t.points_lost > 0]
        return sorted(lost, key=lambda t: (-t.points_lost, t.id))

    def test(self, test_id: str) -> TestResult:
        for t in self.tests:
            if t.id == test_id:
                return t
        raise KeyError(test_id)

    def failed_ids(self) -> list[str]:
        return sorted(t.id for t in self.tests if not t.passed)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def first_sentence(text: str) -> str:
    """The first sentence of `text`'s first paragraph, its lines joined: up to the
    first `.`, `!` or `?` followed by a space (so "0.79" or "train.csv" does not end it)."""
    paragraph = " ".join(text.strip().split("\n\n", 1)[0].split())
    return _SENTENCE_END.split(paragraph, maxsplit=1)[0]
