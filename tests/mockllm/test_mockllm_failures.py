"""Scripted failures, and the SDKs' real retry behaviour against them (attempts from the log)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import anthropic
import openai
import pytest

if TYPE_CHECKING:
    from mockserve import MockServer


PROMPT = [{"role": "user", "content": "Hello there"}]


def test_openai_retries_429_honouring_retry_after_ms(mock: MockServer) -> None:
    mock.load({"failures": [{"kind": "error", "endpoint": "chat.completions", "calls": [1, 2],
                             "status": 429, "retry_after_ms": 20, "retry_after": 1}]})  # fmt: skip
    with mock.openai(max_retries=2) as client:
        started = time.monotonic()
        done = client.chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
        elapsed = time.monotonic() - started
    assert done.choices[0].finish_reason == "stop"
    records = mock.admin.requests()
    assert [r.status for r in records] == [429, 429, 200]
    assert [r.headers["x-stainless-retry-count"] for r in records] == ["0", "1", "2"]
    assert records[0].error == {"error": {
        "message": "Rate limit reached for requests. Please try again later.",
        "type": "requests", "param": None, "code": "rate_limit_exceeded"}}  # fmt: skip
    assert elapsed < 0.9  # retry-after-ms (20 ms) wins over retry-after (1 s)
    assert mock.admin.counters().failures == {"error": 2}


def test_openai_gives_up_after_max_retries_on_500(mock: MockServer) -> None:
    mock.load({"failures": [{"kind": "error", "status": 500, "retry_after_ms": 1}]})
    with mock.openai(max_retries=3) as client, pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
    assert caught.value.body["type"] == "server_error"  # type: ignore[index]
    assert len(mock.admin.requests()) == 4


def test_x_should_retry_false_stops_retries(mock: MockServer) -> None:
    mock.load({"failures": [{"kind": "error", "status": 503, "should_retry": False}]})
    with mock.openai(max_retries=3) as client, pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
    assert caught.value.status_code == 503
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert len(mock.admin.requests()) == 1


def test_anthropic_retries_529_overloaded(mock: MockServer) -> None:
    mock.load({"failures": [{"kind": "error", "endpoint": "messages", "calls": [1],
                             "status": 529, "retry_after_ms": 10}]})  # fmt: skip
    with mock.anthropic(max_retries=2) as client:
        message = client.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=PROMPT)
    assert message.stop_reason == "end_turn"
    records = mock.admin.requests()
    assert [r.status for r in records] == [529, 200]
    assert records[0].error["error"] == {"type": "overloaded_error", "message": "Overloaded"}


def test_anthropic_rate_limit_without_retries(mock: MockServer) -> None:
    mock.load({"failures": [{"kind": "error", "status": 429, "retry_after": 7}]})
    with mock.anthropic() as client, pytest.raises(anthropic.RateLimitError) as caught:
        client.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=PROMPT)
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]


def test_failures_only_hit_their_endpoint_and_calls(mock: MockServer) -> None:
    mock.load({"failures": [{"kind": "error", "endpoint": "embeddings", "calls": [2],
                             "status": 500}]})  # fmt: skip
    with mock.openai() as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
        client.embeddings.create(model="mock-embedding-small", input="a", encoding_format="float")
        with pytest.raises(openai.InternalServerError):
            client.embeddings.create(
                model="mock-embedding-small", input="b", encoding_format="float"
            )
        client.embeddings.create(model="mock-embedding-small", input="c", encoding_format="float")
    assert [(r.endpoint, r.call, r.status) for r in mock.admin.requests()] == [
        ("chat.completions", 1, 200), ("embeddings", 1, 200), ("embeddings", 2, 500),
        ("embeddings", 3, 200)]  # fmt: skip


def test_slow_response_then_answer(mock: MockServer) -> None:
    mock.load({"failures": [{"kind": "slow", "delay_ms": 300}]})
    with mock.openai() as client:
        started = time.monotonic()
        client.chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
    assert time.monotonic() - started >= 0.3
    assert mock.admin.requests()[0].duration_ms >= 300


def test_stall_past_the_client_timeout_is_retried(mock: MockServer) -> None:
    mock.load({"failures": [{"kind": "stall", "calls": [1], "seconds": 2}]})
    with mock.openai(max_retries=1, timeout=0.4) as client:
        done = client.chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
    assert done.choices[0].finish_reason == "stop"
    deadline = time.monotonic() + 3
    while mock.admin.requests()[0].status != 499 and time.monotonic() < deadline:
        time.sleep(0.05)
    first, second = mock.admin.requests()
    assert (first.status, first.failure, first.completed) == (499, "stall", False)
    assert (second.status, second.headers["x-stainless-retry-count"]) == (200, "1")


def test_stall_without_retries_times_out(mock: MockServer) -> None:
    mock.load({"failures": [{"kind": "stall", "seconds": 1}]})
    with mock.anthropic(timeout=0.3) as client, pytest.raises(anthropic.APITimeoutError):
        client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=PROMPT)


def test_openai_stream_error_mid_stream(mock: MockServer) -> None:
    mock.load({"failures": [{"kind": "stream_error", "after_chunks": 3, "status": 500}]})
    received = []
    with mock.openai() as client, pytest.raises(openai.APIError) as caught:
        for chunk in client.chat.completions.create(
            model="gpt-4o-mini", messages=PROMPT, stream=True
        ):
            received.append(chunk)
    assert len(received) == 3
    assert caught.value.message == (
        "The server had an error while processing your request. Sorry about that!"
    )
    record = mock.admin.requests()[0]
    assert record.failure == "stream_error" and record.error["error"]["type"] == "server_error"


def test_anthropic_error_event_mid_stream(mock: MockServer) -> None:
    mock.load({"failures": [{"kind": "stream_error", "after_chunks": 4, "status": 529}]})

    async def run() -> list[str]:
        seen: list[str] = []
        async with mock.async_anthropic() as client:
            stream = await client.messages.create(
                model="claude-haiku-4-5", max_tokens=50, messages=PROMPT, stream=True
            )
            async for event in stream:
                seen.append(event.type)
        return seen

    with pytest.raises(anthropic.APIStatusError) as caught:
        asyncio.run(run())
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
        "request_id": "req_00000001",
    }
    events = [e["event"] for e in mock.admin.requests()[0].response]
    assert events == ["message_start", "ping", "content_block_start", "content_block_delta",
                      "error"]  # fmt: skip


def test_disconnect_mid_stream(mock: MockServer) -> None:
    mock.load({"failures": [{"kind": "disconnect", "after_chunks": 2}]})
    received = []
    with mock.openai() as client, pytest.raises(openai.APIConnectionError):
        for chunk in client.chat.completions.create(
            model="gpt-4o-mini", messages=PROMPT, stream=True
        ):
            received.append(chunk)
    assert len(received) == 2
    record = mock.admin.requests()[0]
    assert (record.failure, record.completed, len(record.response)) == ("disconnect", False, 2)


def test_stream_failures_leave_plain_requests_alone(mock: MockServer) -> None:
    mock.load({"failures": [{"kind": "stream_error", "after_chunks": 1}]})
    with mock.openai() as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
    assert mock.admin.requests()[0].failure is None


def test_stream_stalls_after_some_chunks(mock: MockServer) -> None:
    mock.load({"failures": [{"kind": "stall", "after_chunks": 2, "seconds": 1}]})
    received = []
    with mock.openai(timeout=0.3) as client, pytest.raises(openai.APIError):
        for chunk in client.chat.completions.create(
            model="gpt-4o-mini", messages=PROMPT, stream=True
        ):
            received.append(chunk)
    assert len(received) == 2
    deadline = time.monotonic() + 3
    while not mock.admin.requests()[0].duration_ms and time.monotonic() < deadline:
        time.sleep(0.05)
    record = mock.admin.requests()[0]
    assert (record.failure, record.completed) == ("stall", False)
    assert len(record.response) == 2
