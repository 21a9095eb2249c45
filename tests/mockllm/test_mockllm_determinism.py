"""Same scenario and same requests give the same bytes: on replay, and on another server."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserve import MockServer

SCENARIO: dict[str, Any] = {
    "name": "replay",
    "rules": [
        {
            "name": "search",
            "when": {"turn": 1, "last_user_contains": "search"},
            "reply": {"tool_calls": [{"name": "search", "arguments": {"q": "eiffel"}}]},
        }
    ],
    "failures": [{"kind": "error", "endpoint": "embeddings", "calls": [2], "status": 429}],
}
CORPUS = '<doc id="a">Paris is the capital of France.</doc> <doc id="b">Rome has seven hills.</doc>'
ANTHROPIC = {"anthropic-version": "2023-06-01"}


def _run(server: MockServer) -> list[tuple[int, bytes]]:
    """A recorded session: every kind of answer the mock gives."""
    chat = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": f"{CORPUS} Capital of France?"}],
    }
    calls: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        ("/v1/chat/completions", chat, {}),
        ("/v1/chat/completions", {**chat, "stream": True,
                                  "stream_options": {"include_usage": True}}, {}),
        ("/v1/chat/completions", {"model": "gpt-4o-mini", "tools": [{"type": "function",
            "function": {"name": "search"}}], "messages": [{"role": "user",
                                                          "content": "search it"}]}, {}),
        ("/v1/messages", {"model": "claude-haiku-4-5", "max_tokens": 50,
                          "messages": chat["messages"]}, ANTHROPIC),
        ("/v1/messages", {"model": "claude-haiku-4-5", "max_tokens": 50, "stream": True,
                          "messages": [{"role": "user", "content": "search now"}]}, ANTHROPIC),
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": ["a", "b c"],
                            "encoding_format": "float"}, {}),
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "x"}, {}),
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "Paris",
                            "encoding_format": "base64", "dimensions": 128}, {}),
        ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": []}, {}),
    ]  # fmt: skip
    results = []
    with server.http() as http:
        for path, body, headers in calls:
            response = http.post(path, json=body, headers=headers)
            results.append((response.status_code, response.content))
        results.append((0, http.get("/v1/models").content))
    return results


def test_replay_is_byte_identical(
    mock: MockServer, fresh_server: Callable[[], AbstractContextManager[MockServer]]
) -> None:
    mock.load(SCENARIO)
    recorded = _run(mock)
    assert [status for status, _ in recorded] == [200, 200, 200, 200, 200, 200, 429, 200, 400, 0]
    mock.load(SCENARIO)
    assert _run(mock) == recorded
    with fresh_server() as other:
        other.load(SCENARIO)
        assert _run(other) == recorded


def test_identical_requests_get_identical_ids(mock: MockServer) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
    with mock.http() as http:
        first = http.post("/v1/chat/completions", json=body).json()
        second = http.post("/v1/chat/completions", json=body).json()
        other = http.post(
            "/v1/chat/completions", json={**body, "messages": [{"role": "user", "content": "hi"}]}
        ).json()
    assert first == second
    assert first["id"] != other["id"]
    assert first["created"] == 1_735_689_600
