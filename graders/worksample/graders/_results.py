"""What the plugin hands the grader: one typed model, written once, read once."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from worksample.graders._report import TestResult


class SuiteResults(BaseModel):
    """The trusted pytest process's results; the grader cross-checks them with
    pytest's exit status before it scores anything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exitstatus: int
    collected: int
    tests: list[TestResult] = Field(default_factory=list)
    peak_memory_bytes: int | None = None
    candidate_wall_s: float = 0.0
    calls: int = 0
    sandbox_restarts: int = 0
    sandbox_start_s: float = 0.0
    llm_start_s: float = 0.0
    runtimes: list[str] = Field(
        default_factory=list, description="OCI runtimes the grading's containers ran under."
    )
    infra_errors: list[str] = Field(
        default_factory=list,
        description="Infrastructure failures: they void the grading, never the candidate's.",
    )
