"""The Anthropic surface, through the official SDK in strict response validation mode."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import anthropic
import pytest
from worksample.mockllm import count_tokens

if TYPE_CHECKING:
    from mockserve import MockServer

QUESTION = "When was the Eiffel Tower completed?"
ANSWER = "The Eiffel Tower is in Paris. It was completed in 1889 for the World's Fair. [eiffel]"
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather of a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
TOOL_SCENARIO = {
    "rules": [
        {
            "name": "ask weather",
            "when": {"tool_results": 0, "last_user_matches": "weather in (?P<city>\\w+)"},
            "reply": {
                "text": "Let me check.",
                "tool_calls": [{"name": "get_weather", "arguments": {"city": "{{ match.city }}"}}],
            },
        },
        {
            "name": "report",
            "when": {"last_tool_result_contains": "sunny"},
            "reply": {"text": "{{ match.city }} is {{ last_tool_result }}."},
        },
        {
            "name": "report plain",
            "when": {"last_tool_name": "get_weather"},
            "reply": {"text": "The weather is {{ last_tool_result }}."},
        },
    ]
}


def _events(raw: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_message_answers_with_citation_and_usage(claude: anthropic.Anthropic, corpus: str) -> None:
    message = claude.messages.create(
        model="claude-haiku-4-5",
        max_tokens=200,
        system="Answer from the documents.",
        messages=[{"role": "user", "content": f"{corpus}\n{QUESTION}"}],
    )
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == ANSWER  # type: ignore[union-attr]
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert message.id.startswith("msg_") and message.role == "assistant"
    assert message.usage.output_tokens == count_tokens(ANSWER) == 24


def test_stream_events_come_in_order(mock: MockServer, corpus: str) -> None:
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": f"{corpus}\n{QUESTION}"}],
    }
    with mock.http(**{"anthropic-version": "2023-06-01"}) as http:
        raw = http.post("/v1/messages", json=body)
    events = _events(raw.text)
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    assert names[-4:] == ["content_block_delta", "content_block_stop", "message_delta",
                          "message_stop"]  # fmt: skip
    assert all(data["type"] == name for name, data in events)
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    text = "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta")
    assert text == ANSWER
    assert events[-2][1]["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}


def test_sdk_stream_helper_builds_the_final_message(
    claude: anthropic.Anthropic, corpus: str
) -> None:
    with claude.messages.stream(
        model="claude-haiku-4-5",
        max_tokens=100,
        messages=[{"role": "user", "content": f"{corpus}\n{QUESTION}"}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == ANSWER
    assert final.content[0].text == ANSWER  # type: ignore[union-attr]
    assert final.usage.output_tokens == count_tokens(ANSWER)


def test_tool_use_round_trip(mock: MockServer) -> None:
    mock.load(TOOL_SCENARIO)
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Oslo?"}]
    with mock.anthropic() as client:
        first = client.messages.create(
            model="claude-haiku-4-5", max_tokens=200, tools=[WEATHER_TOOL], messages=messages
        )
        assert first.stop_reason == "tool_use"
        assert [b.type for b in first.content] == ["text", "tool_use"]
        use = first.content[1]
        assert use.type == "tool_use" and use.input == {"city": "Oslo"}
        messages += [
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": use.id, "content": "rainy"}]},
        ]  # fmt: skip
        second = client.messages.create(
            model="claude-haiku-4-5", max_tokens=200, tools=[WEATHER_TOOL], messages=messages
        )
    assert second.content[0].text == "The weather is rainy."  # type: ignore[union-attr]
    assert second.stop_reason == "end_turn"


def test_streamed_tool_use_sends_input_json_deltas(mock: MockServer) -> None:
    mock.load(TOOL_SCENARIO)

    async def run() -> tuple[list[str], Any]:
        async with (
            mock.async_anthropic() as client,
            client.messages.stream(
                model="claude-haiku-4-5",
                max_tokens=200,
                tools=[WEATHER_TOOL],
                messages=[{"role": "user", "content": "weather in Lima please"}],
            ) as stream,
        ):
            kinds = [event.type async for event in stream]
            return kinds, await stream.get_final_message()

    kinds, final = asyncio.run(run())
    assert "input_json" in kinds
    assert final.content[1].input == {"city": "Lima"}
    assert final.stop_reason == "tool_use"
    deltas = [
        e["data"]["delta"]
        for e in mock.admin.requests()[-1].response
        if e["event"] == "content_block_delta" and e["data"]["index"] == 1
    ]
    assert deltas[0] == {"type": "input_json_delta", "partial_json": ""}
    assert json.loads("".join(d["partial_json"] for d in deltas)) == {"city": "Lima"}


def test_async_message_and_stop_reasons(mock: MockServer, corpus: str) -> None:
    async def run() -> list[Any]:
        async with mock.async_anthropic() as client:
            prompt = [{"role": "user", "content": f"{corpus}\n{QUESTION}"}]
            model = "claude-haiku-4-5"
            return [
                await client.messages.create(model=model, max_tokens=4, messages=prompt),
                await client.messages.create(
                    model=model, max_tokens=100, messages=prompt, stop_sequences=["1889"]
                ),
            ]

    cut, stopped = asyncio.run(run())
    assert (cut.content[0].text, cut.stop_reason) == ("The Eiffel Tower is", "max_tokens")
    assert stopped.stop_reason == "stop_sequence" and stopped.stop_sequence == "1889"
    assert stopped.content[0].text.endswith("It was completed in ")


def test_wrong_key_missing_version_and_unknown_model(mock: MockServer) -> None:
    wrong = anthropic.Anthropic(
        base_url=mock.url, api_key="nope", max_retries=0, _strict_response_validation=True
    )
    with wrong as client, pytest.raises(anthropic.AuthenticationError) as caught:
        client.messages.create(
            model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
        "request_id": caught.value.response.headers["request-id"],
    }
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "x"}],
    }
    with mock.http() as http:
        response = http.post("/v1/messages", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "anthropic-version: header is required",
    }
    with mock.anthropic() as client, pytest.raises(anthropic.NotFoundError) as missing:
        client.messages.create(
            model="claude-9", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert missing.value.body["error"] == {"type": "not_found_error", "message": "model: claude-9"}  # type: ignore[index]


HI = [{"role": "user", "content": "x"}]
HAIKU = "claude-haiku-4-5"
TOOL_USE = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": HAIKU, "messages": HI}, "max_tokens: Field required"),
        ({"model": HAIKU, "max_tokens": 5, "messages": [{"role": "bot", "content": "x"}]},
         "messages.0.role: Input should be 'user' or 'assistant'"),
        ({"model": HAIKU, "max_tokens": 5, "messages": HI, "foo": 1},
         "foo: Extra inputs are not permitted"),
        ({"model": HAIKU, "max_tokens": 99999, "messages": HI},
         "max_tokens: 99999 > 64000, which is the maximum allowed number of output tokens for "
         "claude-haiku-4-5"),
        ({"model": "mock-claude-small", "max_tokens": 5,
          "messages": [{"role": "user", "content": "word " * 2100}]},
         "prompt is too long: 2107 tokens > 2048 maximum"),
        ({"model": HAIKU, "max_tokens": 5, "messages": [
            *HI, {"role": "assistant", "content": [TOOL_USE]}, {"role": "user", "content": "y"}]},
         "messages.2: `tool_use` ids were found without `tool_result` blocks immediately after: "
         "toolu_1. Each `tool_use` block must have a corresponding `tool_result` block in the "
         "next message."),
        ({"model": HAIKU, "max_tokens": 5, "messages": [
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2"}]}]},
         "messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_2. "
         "Each `tool_result` block must have a corresponding `tool_use` block in the previous "
         "message."),
    ],
)  # fmt: skip
def test_invalid_messages_get_anthropic_400s(
    mock: MockServer, body: dict[str, Any], message: str
) -> None:
    with mock.http(**{"anthropic-version": "2023-06-01"}) as http:
        response = http.post("/v1/messages", json=body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["type"] == "error"
    assert payload["error"] == {"type": "invalid_request_error", "message": message}


def test_models_list_in_anthropic_shape(claude: anthropic.Anthropic) -> None:
    ids = [m.id for m in claude.models.list()]
    assert "claude-haiku-4-5" in ids and "gpt-4o-mini" not in ids
    assert claude.models.retrieve("claude-sonnet-4-5").display_name == "claude-sonnet-4-5"


def test_count_tokens_matches_the_message_usage(claude: anthropic.Anthropic, corpus: str) -> None:
    messages = [{"role": "user", "content": f"{corpus}\n{QUESTION}"}]
    system = "Answer from the documents."
    counted = claude.messages.count_tokens(
        model="claude-haiku-4-5", system=system, messages=messages, tools=[WEATHER_TOOL]
    )
    message = claude.messages.create(
        model="claude-haiku-4-5", max_tokens=50, system=system, messages=messages,
        tools=[WEATHER_TOOL],
    )  # fmt: skip
    assert counted.input_tokens == message.usage.input_tokens
    with pytest.raises(anthropic.BadRequestError) as caught:
        claude.messages.count_tokens(model="claude-haiku-4-5", messages=[])
    assert caught.value.body["error"]["message"] == (  # type: ignore[index]
        "messages: List should have at least 1 item after validation, not 0"
    )
