"""The OpenAI surface, through the official SDK in strict response validation mode."""

from __future__ import annotations

import asyncio
import base64
import json
from array import array
from typing import TYPE_CHECKING, Any

import openai
import pytest

if TYPE_CHECKING:
    from mockserve import MockServer


QUESTION = "When was the Eiffel Tower completed?"
ANSWER = "The Eiffel Tower is in Paris. It was completed in 1889 for the World's Fair. [eiffel]"

LOOKUP_TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Look a city up.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
TOOL_SCENARIO = {
    "name": "lookup",
    "rules": [
        {
            "name": "first call",
            "when": {"turn": 1},
            "reply": {"tool_calls": [{"name": "lookup", "arguments": {"city": "Paris"}}]},
        },
        {
            "name": "answer",
            "when": {"last_tool_name": "lookup"},
            "reply": {"text": "It is {{ last_tool_result.json.temp }} degrees."},
        },
    ],
}


def test_models_list_and_retrieve(oai: openai.OpenAI) -> None:
    ids = [m.id for m in oai.models.list()]
    assert "gpt-4o-mini" in ids and "text-embedding-3-small" in ids
    assert not any(i.startswith("claude") for i in ids)
    model = oai.models.retrieve("gpt-4o-mini")
    assert (model.id, model.object, model.owned_by) == ("gpt-4o-mini", "model", "system")
    with pytest.raises(openai.NotFoundError) as caught:
        oai.models.retrieve("gpt-unknown")
    assert caught.value.code == "model_not_found"


def test_chat_completion_answers_from_the_best_passage(oai: openai.OpenAI, corpus: str) -> None:
    completion = oai.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Answer from the documents."},
            {"role": "user", "content": f"{corpus}\n{QUESTION}"},
        ],
    )
    choice = completion.choices[0]
    assert choice.message.content == ANSWER
    assert choice.finish_reason == "stop"
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.usage is not None
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )


def test_streaming_sends_chunks_usage_and_done(mock: MockServer, corpus: str) -> None:
    with mock.openai() as client:
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": f"{corpus}\n{QUESTION}"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == ANSWER
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert all(c.usage is None for c in chunks[:-1])
    with mock.http() as http:
        raw = http.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
                  "stream": True},
        )  # fmt: skip
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert raw.text.endswith("data: [DONE]\n\n")


def test_tool_calls_round_trip_sync(mock: MockServer) -> None:
    mock.load(TOOL_SCENARIO)
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    with mock.openai() as client:
        first = client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, tools=[LOOKUP_TOOL], tool_choice="auto"
        )
        assert first.choices[0].finish_reason == "tool_calls"
        call = first.choices[0].message.tool_calls[0]
        assert call.type == "function" and call.function.name == "lookup"
        assert json.loads(call.function.arguments) == {"city": "Paris"}
        messages += [
            first.choices[0].message,  # as candidates often do: the SDK's object itself
            {"role": "tool", "tool_call_id": call.id, "content": '{"temp": 21}'},
        ]
        second = client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, tools=[LOOKUP_TOOL]
        )
    assert second.choices[0].message.content == "It is 21 degrees."
    assert [r.reply_source for r in mock.admin.requests()] == ["rule:first call", "rule:answer"]


def test_streamed_tool_call_deltas_carry_index(mock: MockServer) -> None:
    mock.load(
        {
            "rules": [
                {
                    "name": "two calls",
                    "reply": {
                        "tool_calls": [
                            {"name": "lookup", "arguments": {"city": "Paris", "days": 3}},
                            {"name": "lookup", "arguments": {"city": "Rome"}},
                        ]
                    },
                }
            ]
        }
    )

    async def run() -> list[openai.types.chat.ChatCompletionChunk]:
        async with mock.async_openai() as client:
            stream = await client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "Compare Paris and Rome"}],
                tools=[LOOKUP_TOOL],
                stream=True,
            )
            return [chunk async for chunk in stream]

    chunks = asyncio.run(run())
    arguments: dict[int, str] = {}
    names: dict[int, str] = {}
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or []:
            if delta.id is not None:
                names[delta.index] = delta.function.name
            arguments[delta.index] = arguments.get(delta.index, "") + delta.function.arguments
    assert names == {0: "lookup", 1: "lookup"}
    assert json.loads(arguments[0]) == {"city": "Paris", "days": 3}
    assert json.loads(arguments[1]) == {"city": "Rome"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_async_chat_completion(mock: MockServer, corpus: str) -> None:
    async def run() -> str | None:
        async with mock.async_openai() as client:
            done = await client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": f"{corpus}\n{QUESTION}"}]
            )
            return done.choices[0].message.content

    assert asyncio.run(run()) == ANSWER


def test_json_mode_and_its_required_word(oai: openai.OpenAI, corpus: str) -> None:
    done = oai.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": f"{corpus}\nReply in JSON. {QUESTION}"}],
        response_format={"type": "json_object"},
    )
    assert json.loads(done.choices[0].message.content or "") == {
        "answer": "The Eiffel Tower is in Paris. It was completed in 1889 for the World's Fair.",
        "citations": ["eiffel"],
    }
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": QUESTION}],
            response_format={"type": "json_object"},
        )
    assert caught.value.body["message"] == (  # type: ignore[index]
        "'messages' must contain the word 'json' in some form, to use 'response_format' of "
        "type 'json_object'."
    )


def test_max_tokens_stop_and_n(oai: openai.OpenAI, corpus: str) -> None:
    messages = [{"role": "user", "content": f"{corpus}\n{QUESTION}"}]
    cut = oai.chat.completions.create(model="gpt-4o-mini", messages=messages, max_tokens=5)
    assert cut.choices[0].message.content == "The Eiffel Tower is in"
    assert (cut.choices[0].finish_reason, cut.usage.completion_tokens) == ("length", 5)  # type: ignore[union-attr]
    newer = oai.chat.completions.create(
        model="gpt-4o-mini", messages=messages, max_completion_tokens=3
    )
    assert newer.choices[0].message.content == "The Eiffel Tower"
    stopped = oai.chat.completions.create(model="gpt-4o-mini", messages=messages, stop=["Paris"])
    assert stopped.choices[0].message.content == "The Eiffel Tower is in "
    assert stopped.choices[0].finish_reason == "stop"
    many = oai.chat.completions.create(model="gpt-4o-mini", messages=messages, n=2)
    assert [c.index for c in many.choices] == [0, 1]


def test_embeddings_float_base64_and_dimensions(mock: MockServer, oai: openai.OpenAI) -> None:
    texts = ["The cat sat on the mat.", "A cat is sitting on a mat.", "Stock markets fell."]
    floats = oai.embeddings.create(
        model="text-embedding-3-small", input=texts, encoding_format="float"
    )
    assert [d.index for d in floats.data] == [0, 1, 2]
    assert len(floats.data[0].embedding) == 1536
    assert floats.usage.prompt_tokens == floats.usage.total_tokens == 7 + 9 + 5
    # The SDK asks for base64 when no format is given and decodes it; its strict mode
    # cannot validate that (it checks the list type before decoding), so not strict here.
    with mock.openai(_strict_response_validation=False) as lenient:
        default = lenient.embeddings.create(model="text-embedding-3-small", input=texts)
        assert mock.admin.requests()[-1].body["encoding_format"] == "base64"
        explicit = lenient.embeddings.create(
            model="text-embedding-3-small", input=texts[0], encoding_format="base64"
        )
    for plain, decoded in zip(floats.data, default.data, strict=True):
        # JSON carries float32 values in 9 significant digits: the same float32 numbers.
        assert array("f", decoded.embedding) == array("f", plain.embedding)
    packed = base64.b64decode(str(explicit.data[0].embedding))
    assert array("f", packed) == array("f", floats.data[0].embedding)
    short = oai.embeddings.create(
        model="text-embedding-3-small", input=texts[0], dimensions=64, encoding_format="float"
    )
    head = array("f", floats.data[0].embedding[:64]).tolist()
    norm = sum(v * v for v in head) ** 0.5
    assert short.data[0].embedding == pytest.approx([v / norm for v in head], abs=1e-6)


def test_wrong_and_missing_key_get_401_bodies(mock: MockServer) -> None:
    wrong = openai.OpenAI(
        base_url=mock.url + "/v1",
        api_key="sk-wrong-key-123456",
        _strict_response_validation=True,
        max_retries=0,
    )
    with wrong as client, pytest.raises(openai.AuthenticationError) as caught:
        client.models.list()
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert caught.value.body == {
        "message": "Incorrect API key provided: sk-************3456. You can find your API key "
        "at https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
    with mock.http() as http:
        response = http.get("/v1/models", headers={"authorization": ""})
    assert response.status_code == 401
    assert response.json()["error"]["message"].startswith("You didn't provide an API key.")


@pytest.mark.parametrize(
    ("body", "status", "message", "param", "code"),
    [
        ({"model": "gpt-4o-mini"}, 400, "Missing required parameter: 'messages'.", "messages",
         "missing_required_parameter"),
        ({"model": "gpt-4o-mini", "messages": []}, 400, "Invalid 'messages': empty array. "
         "Expected an array with minimum length 1, but got an empty array instead.", "messages",
         "empty_array"),
        ({"model": "gpt-4o-mini", "messages": [{"role": "robot", "content": "x"}]}, 400,
         "Invalid value: 'robot'. Supported values are: 'system', 'developer', 'user', "
         "'assistant', 'tool', 'function'.", "messages[0]", "invalid_value"),
        ({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": 5}]}, 400,
         "Invalid type for 'messages[0].content': expected one of a string or an array, but "
         "got an integer instead.", "messages[0].content", "invalid_type"),
        ({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}],
          "temperature": 3}, 400, "Invalid 'temperature': decimal above maximum value. Expected "
         "a value <= 2, but got 3 instead.", "temperature", "decimal_above_max_value"),
        ({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "foo": 1}, 400,
         "Unrecognized request argument supplied: foo", None, None),
        (["not", "an", "object"], 400, "The request body must be a JSON object.", None, None),
        ({"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}, 404,
         "The model `gpt-9` does not exist or you do not have access to it.", None,
         "model_not_found"),
        ({"model": "gpt-4o-mini", "messages": [{"role": "tool", "content": "x",
          "tool_call_id": "call_1"}]}, 400, "Invalid parameter: messages with role 'tool' must "
         "be a response to a preceeding message with 'tool_calls'.", "messages.[0].role", None),
        ({"model": "gpt-4o-mini", "messages": [{"role": "assistant", "tool_calls": [
            {"id": "call_9", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
          {"role": "user", "content": "x"}]}, 400, "An assistant message with 'tool_calls' must "
         "be followed by tool messages responding to each 'tool_call_id'. The following "
         "tool_call_ids did not have response messages: call_9", "messages.[0].role", None),
        ({"model": "text-embedding-3-small", "messages": [{"role": "user", "content": "x"}]},
         400, "The model `text-embedding-3-small` is not a chat model.", "model",
         "invalid_value"),
    ],
)  # fmt: skip
def test_invalid_chat_requests_get_openai_400s(
    mock: MockServer,
    body: object,
    status: int,
    message: str,
    param: str | None,
    code: str | None,
) -> None:
    with mock.http() as http:
        response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == status
    assert response.json() == {
        "error": {"message": message, "type": "invalid_request_error", "param": param,
                  "code": code}
    }  # fmt: skip


def test_invalid_json_and_unknown_route(mock: MockServer) -> None:
    with mock.http() as http:
        broken = http.post(
            "/v1/chat/completions", content=b"{nope", headers={"content-type": "application/json"}
        )
        missing = http.post("/v1/completions", json={"model": "gpt-4o-mini"})
    assert broken.status_code == 400
    assert broken.json()["error"]["message"].startswith(
        "We could not parse the JSON body of your request."
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Invalid URL (POST /v1/completions)"


@pytest.mark.parametrize(
    "document",
    [
        # A lone surrogate is valid JSON, but no text: the passage it sits in would be
        # quoted in the answer and in the log, and neither could be written as UTF-8.
        b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content":'
        b' "<doc id=\\"a\\">Paris \\ud800 is in France.</doc> Where is Paris?"}]}',
        b'{"model": "gpt-4o-mini", "messages": [], "x": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["lone-surrogate", "nested-5000", "nested-100000"],
)
def test_json_no_reply_could_quote_is_refused_and_logged(mock: MockServer, document: bytes) -> None:
    headers = {"content-type": "application/json"}
    with mock.http() as http:
        openai_answer = http.post("/v1/chat/completions", content=document, headers=headers)
        anthropic_answer = http.post(
            "/v1/messages", content=document, headers={**headers, "anthropic-version": "2023-06-01"}
        )
    assert openai_answer.status_code == anthropic_answer.status_code == 400
    assert openai_answer.json()["error"]["message"].startswith(
        "We could not parse the JSON body of your request."
    )
    assert anthropic_answer.json()["error"]["type"] == "invalid_request_error"
    # The grader can still read the whole log, and each refusal is in it, finished.
    logged = mock.admin.requests()
    assert [(r.status, r.completed) for r in logged] == [(400, True), (400, True)]
    assert logged[0].body == document.decode()


def test_context_window_errors(oai: openai.OpenAI) -> None:
    long_text = "word " * 2100
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(
            model="mock-gpt-small", messages=[{"role": "user", "content": long_text}]
        )
    assert caught.value.code == "context_length_exceeded"
    assert caught.value.message.endswith(
        "This model's maximum context length is 2048 tokens. However, your messages resulted "
        "in 2107 tokens. Please reduce the length of the messages."
    )
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(
            model="mock-gpt-small",
            messages=[{"role": "user", "content": "word " * 1900}],
            max_tokens=200,
        )
    assert "However, you requested 2107 tokens (1907 in the messages, 200 in the completion)." in (
        caught.value.message
    )
    with pytest.raises(openai.BadRequestError) as caught:
        oai.embeddings.create(model="text-embedding-3-small", input="word " * 9000)
    assert caught.value.code == "context_length_exceeded"


def test_a_bug_in_the_mock_is_a_provider_shaped_500(
    mock: MockServer, oai: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("worksample.mockllm._wire.openai.routes.decide_reply", broken)
    with pytest.raises(openai.InternalServerError) as caught:
        oai.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.body == {
        "message": "The mock LLM failed: RuntimeError: boom",
        "type": "server_error",
        "param": None,
        "code": None,
    }
    assert mock.admin.requests()[0].status == 500
