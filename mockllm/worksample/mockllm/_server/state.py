"""The mutable state of one mock server: scenario, model catalogue, request log."""

from __future__ import annotations

from pathlib import Path

from worksample.mockllm._catalogue import ModelSpec, build_catalogue
from worksample.mockllm._scenario import Failure, Scenario
from worksample.mockllm._server.log import LogBackend
from worksample.mockllm._server.shared import read_scenario, write_scenario

__all__ = ["MockState"]


class MockState:
    """Scenario, catalogue and log; `load` and `reset` restart the numbering of calls.

    With a `shared_dir` (several workers), the scenario lives in that directory and
    a worker re-reads it whenever the log's generation moved on (`sync`).
    """

    def __init__(
        self, scenario: Scenario, *, log: LogBackend, shared_dir: Path | None = None
    ) -> None:
        self.log = log
        self._shared_dir = shared_dir
        self._use(scenario)

    def _use(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.catalogue: dict[str, ModelSpec] = build_catalogue(scenario.models)
        self._generation = self.log.generation

    def sync(self) -> None:
        """Pick up a scenario another worker loaded."""
        if self._shared_dir is not None and self.log.generation != self._generation:
            self._use(read_scenario(self._shared_dir))

    def load(self, scenario: Scenario) -> None:
        """Switch to `scenario` and clear the log."""
        if self._shared_dir is not None:
            write_scenario(self._shared_dir, scenario)
        self.log.clear()
        self._use(scenario)

    def reset(self) -> None:
        """Clear the log and call numbers; keep the scenario."""
        self.sync()
        self.log.clear()
        self._generation = self.log.generation

    def failure_for(self, endpoint: str, call: int, seq: int) -> Failure | None:
        """The first scripted failure aimed at this call, if any."""
        for failure in self.scenario.failures:
            if failure.endpoint == "*":
                number = seq
            elif failure.endpoint == endpoint:
                number = call
            else:
                continue
            if not failure.calls or number in failure.calls:
                return failure
        return None
