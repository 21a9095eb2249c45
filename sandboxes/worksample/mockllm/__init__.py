"""The mock LLM API of the AI track: deterministic, OpenAI- and Anthropic-compatible.

Candidate code talks to it with the official SDKs; hidden suites script it with a
`Scenario` and read what was sent through `MockLLMAdmin`. The server side needs
only fastapi, uvicorn and pydantic: `MockLLMAdmin` (httpx) and the typer `app`
are imported on first use. docs/mock-llm.md is the reference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from worksample.mockllm._app import create_app
from worksample.mockllm._catalogue import DEFAULT_MODELS, ModelSpec
from worksample.mockllm._extractive import DEFAULT_REFUSAL, ExtractiveConfig
from worksample.mockllm._log import Counters, RequestRecord, TokenUsage
from worksample.mockllm._scenario import (
    DisconnectFailure,
    ErrorFailure,
    ReplySpec,
    Rule,
    Scenario,
    ScriptedToolCall,
    SlowFailure,
    StallFailure,
    StreamErrorFailure,
    When,
    load_scenario,
)
from worksample.mockllm._settings import DEFAULT_API_KEY, MockSettings
from worksample.mockllm._tokenizer import count_tokens

if TYPE_CHECKING:
    from worksample.mockllm._cli import app
    from worksample.mockllm._client import MockLLMAdmin

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_MODELS",
    "DEFAULT_REFUSAL",
    "Counters",
    "DisconnectFailure",
    "ErrorFailure",
    "ExtractiveConfig",
    "MockLLMAdmin",
    "MockSettings",
    "ModelSpec",
    "ReplySpec",
    "RequestRecord",
    "Rule",
    "Scenario",
    "ScriptedToolCall",
    "SlowFailure",
    "StallFailure",
    "StreamErrorFailure",
    "TokenUsage",
    "When",
    "app",
    "count_tokens",
    "create_app",
    "load_scenario",
]


def __getattr__(name: str) -> Any:
    # Lazy, so the server image needs neither httpx nor typer.
    if name == "MockLLMAdmin":
        from worksample.mockllm._client import MockLLMAdmin

        return MockLLMAdmin
    if name == "app":
        from worksample.mockllm._cli import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
