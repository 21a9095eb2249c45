"""The graded report: what reviewers read and what the platform stores.

Versioned by `schema_version`; every field a consumer may rely on is here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from worksample.sandboxes import Limits

SCHEMA_VERSION = 1
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
    calls: list[CandidateCall] = Field(default_factory=list)


class CategoryScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    weight: float = Field(description="Share of the total, out of 100.")
    score: float = Field(description="Weighted share of passed tests, 0-100.")
    passed: int
    total: int


class Resources(BaseModel):
    model_config = ConfigDict(frozen=True)

    peak_memory_bytes: int | None = None
    candidate_wall_s: float = 0.0
    calls: int = 0
    sandbox_restarts: int = 0


class Timings(BaseModel):
    model_config = ConfigDict(frozen=True)

    intake_s: float = 0.0
    suite_s: float = 0.0
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


class Report(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_version: int = SCHEMA_VERSION
    status: Status
    reason: str = Field("", description="Why a submission was rejected or grading failed.")
    score: float | None = Field(None, description="0-100 when graded.")
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
    limits: Limits
    grader_version: str

    def test(self, test_id: str) -> TestResult:
        for t in self.tests:
            if t.id == test_id:
                return t
        raise KeyError(test_id)

    def failed_ids(self) -> list[str]:
        return sorted(t.id for t in self.tests if t.outcome != "passed")
