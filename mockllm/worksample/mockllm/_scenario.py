"""Scenarios: what a hidden suite scripts the mock to do, loadable from JSON or TOML.

A scenario holds rules (scripted replies matched against the conversation),
failures (scripted errors, delays and broken streams on chosen calls), the
extractive model's knobs and extra models. docs/mock-llm.md has the reference.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from worksample.mockllm._catalogue import ModelSpec
from worksample.mockllm._model.extractive import ExtractiveConfig

__all__ = [
    "DisconnectFailure",
    "Endpoint",
    "ErrorFailure",
    "Failure",
    "ReplySpec",
    "Rule",
    "Scenario",
    "ScriptedToolCall",
    "SlowFailure",
    "StallFailure",
    "StreamErrorFailure",
    "When",
    "load_scenario",
]

Endpoint = Literal["chat.completions", "messages", "messages.count_tokens", "embeddings", "models"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class When(_Strict):
    """Conditions on the conversation; a rule matches when all that are set hold."""

    turn: int | None = Field(default=None, ge=1)
    """The model call of this conversation: 1 + assistant messages in the request."""
    turn_at_least: int | None = Field(default=None, ge=1)
    provider: Literal["openai", "anthropic"] | None = None
    model: str | None = None
    last_user_contains: str | None = None
    """Case-insensitive substring of the last user message."""
    last_user_matches: str | None = None
    """Regular expression searched in the last user message; groups feed ``{{ match.NAME }}``."""
    last_tool_result_contains: str | None = None
    """Case-insensitive substring of the most recent tool result."""
    last_tool_name: str | None = None
    """Name of the tool whose result is the most recent one."""
    tool_results: int | None = Field(default=None, ge=0)
    """Exact number of tool results in the conversation so far."""
    tools_offered: tuple[str, ...] = ()
    """Tool names that must all be among the request's tools."""

    @field_validator("last_user_matches")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class ScriptedToolCall(_Strict):
    """A tool call the mock makes. String values may hold ``{{ ... }}`` templates."""

    name: str = Field(min_length=1)
    arguments: dict[str, Any] | None = None
    """Sent as compact JSON after templating."""
    raw_arguments: str | None = None
    """Sent verbatim (after templating): use it for malformed JSON."""

    @model_validator(mode="after")
    def _one_argument_form(self) -> ScriptedToolCall:
        if self.arguments is not None and self.raw_arguments is not None:
            raise ValueError("give either 'arguments' or 'raw_arguments', not both")
        return self


class ReplySpec(_Strict):
    """What a matching rule answers: text, tool calls, or the extractive answer."""

    text: str | None = None
    tool_calls: tuple[ScriptedToolCall, ...] = ()
    extractive: bool = False
    """Answer as the extractive model would (with or without tool calls)."""

    @model_validator(mode="after")
    def _not_empty(self) -> ReplySpec:
        if self.text is None and not self.tool_calls and not self.extractive:
            raise ValueError("a reply needs 'text', 'tool_calls' or 'extractive = true'")
        if self.text is not None and self.extractive:
            raise ValueError("give either 'text' or 'extractive = true', not both")
        return self


class Rule(_Strict):
    """A scripted reply; rules are tried in order and the first match answers."""

    name: str = Field(min_length=1)
    when: When = When()
    reply: ReplySpec


class _FailureBase(_Strict):
    endpoint: Endpoint | Literal["*"] = "*"
    calls: tuple[Annotated[int, Field(ge=1)], ...] = ()
    """1-based numbers of the requests to `endpoint` (to any API endpoint for ``*``)
    since the scenario was loaded or reset, retries included; empty means every call."""


class ErrorFailure(_FailureBase):
    """Answer with an HTTP error instead of the reply."""

    kind: Literal["error"] = "error"
    status: int = Field(ge=400, le=599)
    message: str | None = None
    error_type: str | None = None
    code: str | None = None
    retry_after_ms: int | None = Field(default=None, ge=0)
    """Sets the ``retry-after-ms`` header."""
    retry_after: int | None = Field(default=None, ge=0)
    """Sets the ``retry-after`` header (seconds)."""
    should_retry: bool | None = None
    """Sets ``x-should-retry: true|false``."""


class SlowFailure(_FailureBase):
    """Answer normally, after a delay."""

    kind: Literal["slow"] = "slow"
    delay_ms: int = Field(ge=0, le=600_000)


class StallFailure(_FailureBase):
    """Go silent for `seconds` (past the client's timeout), then answer normally.

    With `after_chunks`, a streaming reply stalls after that many chunks instead.
    """

    kind: Literal["stall"] = "stall"
    seconds: float = Field(default=60.0, gt=0, le=3600)
    after_chunks: int = Field(default=0, ge=0)


class StreamErrorFailure(_FailureBase):
    """Streaming requests only: send `after_chunks` chunks, then an error event."""

    kind: Literal["stream_error"] = "stream_error"
    after_chunks: int = Field(default=1, ge=0)
    status: int = Field(default=500, ge=400, le=599)
    """Picks the error type (e.g. 529: ``overloaded_error``); the HTTP status stays 200."""
    message: str | None = None
    error_type: str | None = None


class DisconnectFailure(_FailureBase):
    """Streaming requests only: send `after_chunks` chunks, then drop the connection."""

    kind: Literal["disconnect"] = "disconnect"
    after_chunks: int = Field(default=1, ge=0)


Failure = Annotated[
    ErrorFailure | SlowFailure | StallFailure | StreamErrorFailure | DisconnectFailure,
    Field(discriminator="kind"),
]


class Scenario(_Strict):
    """Everything a hidden suite scripts; the empty scenario is the plain extractive model."""

    name: str = "default"
    created: int = 1_735_689_600
    """The ``created`` timestamp of every response: fixed, so replays are byte-identical."""
    models: tuple[ModelSpec, ...] = ()
    """Extra models, or overrides of default ones (matched by id)."""
    extractive: ExtractiveConfig = ExtractiveConfig()
    rules: tuple[Rule, ...] = ()
    failures: tuple[Failure, ...] = ()
    stream_chunk_delay_ms: int = Field(default=0, ge=0, le=10_000)
    """Pause between streamed chunks."""


def load_scenario(path: Path) -> Scenario:
    """Read a scenario from a ``.json`` or ``.toml`` file."""
    text = path.read_text(encoding="utf-8")
    data: Any = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    return Scenario.model_validate(data)
