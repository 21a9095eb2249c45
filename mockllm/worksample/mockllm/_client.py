"""`MockLLMAdmin`: the typed client of the admin API, for the grader's fixtures."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from worksample.mockllm._scenario import Scenario
from worksample.mockllm._server.admin import ADMIN_PREFIX
from worksample.mockllm._server.log import Counters, RequestRecord

__all__ = ["MockLLMAdmin"]


class MockLLMAdmin:
    """Load scenarios into a running mock and read what candidate code sent it.

    >>> admin = MockLLMAdmin("http://127.0.0.1:8600", token)   # doctest: +SKIP
    >>> admin.load_scenario(Path("scenario.toml"))             # doctest: +SKIP
    >>> [r.status for r in admin.requests()]                   # doctest: +SKIP
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + ADMIN_PREFIX,
            headers={"authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> MockLLMAdmin:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def load_scenario(self, scenario: Scenario | Mapping[str, Any] | Path) -> None:
        """Switch the server to `scenario` (a model, a mapping, or a .json/.toml file);
        this clears the request log and restarts call numbering."""
        if isinstance(scenario, Path):
            text = scenario.read_text(encoding="utf-8")
            data = tomllib.loads(text) if scenario.suffix == ".toml" else json.loads(text)
            scenario = Scenario.model_validate(data)
        elif not isinstance(scenario, Scenario):
            scenario = Scenario.model_validate(scenario)
        self._call(
            "POST",
            "/scenario",
            content=scenario.model_dump_json(),
            headers={"content-type": "application/json"},
        )

    def scenario(self) -> Scenario:
        """The scenario the server runs."""
        return Scenario.model_validate(self._call("GET", "/scenario"))

    def reset(self) -> None:
        """Clear the request log and call numbers; keep the scenario."""
        self._call("POST", "/reset")

    def requests(self, *, since: int = 0, endpoint: str | None = None) -> list[RequestRecord]:
        """Logged requests with ``seq > since`` (optionally of one endpoint), oldest first."""
        params: dict[str, Any] = {"since": since}
        if endpoint is not None:
            params["endpoint"] = endpoint
        data = self._call("GET", "/requests", params=params)
        return [RequestRecord.model_validate(r) for r in data["requests"]]

    def counters(self) -> Counters:
        """Totals since the last load or reset."""
        return Counters.model_validate(self._call("GET", "/counters"))
