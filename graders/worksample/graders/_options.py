"""The options of one grading, from settings and flags through `grade()` and the
plugin to every container the grading starts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from worksample.sandboxes import SandboxOptions


class GradingOptions(BaseModel):
    """Everything about how to grade that is not the exercise or the submission."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sandbox: SandboxOptions = Field(default_factory=SandboxOptions)
    public_only: bool = Field(False, description="Run only the public tests (practice runs).")

    @property
    def backend(self) -> str:
        return self.sandbox.backend
