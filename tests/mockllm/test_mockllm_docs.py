"""docs/mock-llm.md must document every scenario field, record field, option and route."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel
from starlette.routing import Route
from worksample.mockllm import (
    Counters,
    DisconnectFailure,
    ErrorFailure,
    ExtractiveConfig,
    ModelSpec,
    ReplySpec,
    RequestRecord,
    Scenario,
    ScriptedToolCall,
    SlowFailure,
    StallFailure,
    StreamErrorFailure,
    When,
    create_app,
)
from worksample.mockllm import MockSettings as Settings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "mock-llm.md").read_text()
MODELS: list[type[BaseModel]] = [
    Scenario, When, ReplySpec, ScriptedToolCall, ErrorFailure, SlowFailure, StallFailure,
    StreamErrorFailure, DisconnectFailure, ExtractiveConfig, ModelSpec, RequestRecord, Counters,
]  # fmt: skip


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_is_documented(model: type[BaseModel]) -> None:
    missing = [name for name in model.model_fields if f"`{name}`" not in DOC]
    assert missing == []


def test_failure_kinds_cli_options_and_routes_are_documented() -> None:
    failures = [ErrorFailure, SlowFailure, StallFailure, StreamErrorFailure, DisconnectFailure]
    kinds = [m.model_fields["kind"].default for m in failures]
    assert [k for k in kinds if f"`{k}`" not in DOC] == []
    for option in ("--host", "--port", "--api-key", "--admin-token", "--scenario", "--workers"):
        assert f"`{option}`" in DOC
    app = create_app(Settings(admin_token="doc-test-token"))
    paths = {r.path for r in app.routes if isinstance(r, Route)} - {"/v1/{rest:path}"}
    undocumented = [p for p in paths if p.replace("{model_id:path}", "{id}") not in DOC]
    assert undocumented == []
