"""The mock LLM API of the AI track: deterministic, OpenAI- and Anthropic-compatible.

Candidate code talks to it with the official SDKs; hidden suites script it with a
`Scenario` and read what was sent through `MockLLMAdmin`. The server side needs
only fastapi, uvicorn and pydantic: `MockLLMAdmin` (httpx) and the typer `app`
are imported on first use. docs/mock-llm.md is the reference.

Layout (all private; this module's `__all__` is the API): `_wire` holds the
providers' wire formats, `_model` the deterministic model, which sees only the
provider-neutral conversation, `_server` the app, exchange, state and log; the
scenario, settings, catalogue, admin client and command line sit at the top.
The image's Dockerfile and pinned requirements ship as package data in `image/`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from worksample.mockllm._catalogue import DEFAULT_MODELS, ModelSpec
from worksample.mockllm._model.extractive import DEFAULT_REFUSAL, ExtractiveConfig
from worksample.mockllm._model.tokenizer import count_tokens
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
from worksample.mockllm._server.app import create_app
from worksample.mockllm._server.log import Counters, RequestRecord, TokenUsage
from worksample.mockllm._settings import DEFAULT_API_KEY, MockSettings

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
    # Lazy, so the server imports neither httpx (not in its image) nor typer.
    if name == "MockLLMAdmin":
        from worksample.mockllm._client import MockLLMAdmin

        return MockLLMAdmin
    if name == "app":
        from worksample.mockllm._cli import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
