"""OpenAI chat completions: request to `Conversation`, `Completion` to response or chunks."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from worksample.mockllm._catalogue import ModelSpec
from worksample.mockllm._model.conversation import Conversation, ToolCall, Turn
from worksample.mockllm._model.responder import Completion
from worksample.mockllm._model.tokenizer import count_message_tokens
from worksample.mockllm._wire.errors import MockError
from worksample.mockllm._wire.openai.schema import (
    AssistantMessage,
    ChatRequest,
    FunctionMessage,
    FunctionTool,
    JSONObjectFormat,
    JSONSchemaFormat,
    SystemMessage,
    ToolMessage,
    UserMessage,
)
from worksample.mockllm._wire.sse import DONE, SSEEvent, dump_json

__all__ = [
    "build_chunks",
    "build_completion",
    "check_context",
    "to_conversation",
    "tool_call_id",
]

_FINISH = {"stop": "stop", "stop_sequence": "stop", "length": "length", "tool_calls": "tool_calls"}
_PIECE = re.compile(r"\s*\S+|\s+")
_ARGUMENT_PIECE = 12
FINGERPRINT = "fp_mock0001"


def tool_call_id(digest: str, index: int) -> str:
    """Deterministic ``call_...`` id of the `index`-th tool call of a reply."""
    return "call_" + hashlib.blake2b(f"{digest}:{index}".encode(), digest_size=12).hexdigest()


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(getattr(part, "text", "") or "" for part in content)


def _check_tool_sequence(request: ChatRequest) -> None:
    pending: dict[str, int] = {}
    for index, message in enumerate(request.messages):
        if isinstance(message, ToolMessage):
            if message.tool_call_id not in pending:
                raise MockError(
                    400,
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    param=f"messages.[{index}].role",
                )
            del pending[message.tool_call_id]
            continue
        if pending:
            owner = min(pending.values())
            raise MockError(
                400,
                "An assistant message with 'tool_calls' must be followed by tool messages "
                "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                f"response messages: {', '.join(sorted(pending))}",
                param=f"messages.[{owner}].role",
            )
        if isinstance(message, AssistantMessage) and message.tool_calls:
            pending = {call.id: index for call in message.tool_calls}
    if pending:
        raise MockError(
            400,
            "An assistant message with 'tool_calls' must be followed by tool messages "
            "responding to each 'tool_call_id'. The following tool_call_ids did not have "
            f"response messages: {', '.join(sorted(pending))}",
            param=f"messages.[{min(pending.values())}].role",
        )


def to_conversation(request: ChatRequest) -> tuple[Conversation, list[str]]:
    """The neutral conversation, and the texts its prompt tokens are counted from."""
    _check_tool_sequence(request)
    turns: list[Turn] = []
    texts: list[str] = []
    names: dict[str, str] = {}
    for message in request.messages:
        if isinstance(message, SystemMessage):
            turns.append(Turn("system", _text(message.content)))
        elif isinstance(message, UserMessage):
            turns.append(Turn("user", _text(message.content)))
        elif isinstance(message, AssistantMessage):
            calls = tuple(
                ToolCall(c.id, c.function.name, c.function.arguments)
                for c in message.tool_calls or ()
            )
            names.update((c.id, c.name) for c in calls)
            turns.append(Turn("assistant", _text(message.content), tool_calls=calls))
            texts.extend(c.name + " " + c.arguments for c in calls)
        elif isinstance(message, ToolMessage):
            turns.append(
                Turn(
                    "tool",
                    _text(message.content),
                    tool_call_id=message.tool_call_id,
                    tool_name=names.get(message.tool_call_id),
                )
            )
        elif isinstance(message, FunctionMessage):
            turns.append(Turn("tool", message.content or "", tool_name=message.name))
        texts.append(turns[-1].text)
    tools = tuple(
        t.function.name if isinstance(t, FunctionTool) else t.custom.name
        for t in request.tools or ()
    )
    texts.extend(dump_json(t.model_dump(exclude_none=True)) for t in request.tools or ())
    json_mode = isinstance(request.response_format, JSONObjectFormat | JSONSchemaFormat)
    if isinstance(request.response_format, JSONObjectFormat) and not any(
        "json" in turn.text.lower() for turn in turns
    ):
        raise MockError(
            400,
            "'messages' must contain the word 'json' in some form, to use 'response_format' "
            "of type 'json_object'.",
            param="messages",
        )
    conversation = Conversation(
        model=request.model, turns=tuple(turns), tools=tools, json_mode=json_mode
    )
    return conversation, texts


def check_context(spec: ModelSpec, texts: list[str], max_tokens: int | None) -> int:
    """Prompt tokens, or the context-length 400 when the prompt does not fit."""
    prompt = count_message_tokens(texts)
    window = spec.context_window
    if max_tokens is not None and max_tokens > spec.max_output_tokens:
        raise MockError(
            400,
            f"max_tokens is too large: {max_tokens}. This model supports at most "
            f"{spec.max_output_tokens} completion tokens, whereas you provided {max_tokens}.",
            param="max_tokens",
            code="invalid_value",
        )
    if prompt > window:
        raise MockError(
            400,
            f"This model's maximum context length is {window} tokens. However, your messages "
            f"resulted in {prompt} tokens. Please reduce the length of the messages.",
            param="messages",
            code="context_length_exceeded",
        )
    if max_tokens is not None and prompt + max_tokens > window:
        raise MockError(
            400,
            f"This model's maximum context length is {window} tokens. However, you requested "
            f"{prompt + max_tokens} tokens ({prompt} in the messages, {max_tokens} in the "
            "completion). Please reduce the length of the messages or completion.",
            param="messages",
            code="context_length_exceeded",
        )
    return prompt


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _head(digest: str, model: str, created: int, obj: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-" + digest,
        "object": obj,
        "created": created,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    }


def build_completion(
    completion: Completion, *, digest: str, model: str, created: int, n: int, prompt: int
) -> dict[str, Any]:
    """The ``chat.completion`` object (the same choice `n` times)."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": completion.text,
        "refusal": None,
        "annotations": [],
    }
    if completion.reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": tool_call_id(digest, i),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for i, call in enumerate(completion.reply.tool_calls)
        ]
    choice = {"message": message, "logprobs": None, "finish_reason": _FINISH[completion.finish]}
    body = _head(digest, model, created, "chat.completion")
    body["choices"] = [{"index": i, **choice} for i in range(n)]
    body["usage"] = _usage(prompt, completion.completion_tokens * n)
    return body


def build_chunks(
    completion: Completion,
    *,
    digest: str,
    model: str,
    created: int,
    n: int,
    prompt: int,
    include_usage: bool,
) -> list[SSEEvent]:
    """The ``chat.completion.chunk`` events, usage chunk if asked, and ``[DONE]``."""
    head = _head(digest, model, created, "chat.completion.chunk")
    if include_usage:
        head["usage"] = None
    events: list[SSEEvent] = []

    def _chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> None:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        events.append(SSEEvent(None, {**head, "choices": [choice]}))

    for index in range(n):
        _chunk(index, {"role": "assistant", "content": "", "refusal": None})
        for piece in _PIECE.findall(completion.text or ""):
            _chunk(index, {"content": piece})
        for position, call in enumerate(completion.reply.tool_calls):
            opening = {
                "index": position,
                "id": tool_call_id(digest, position),
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            _chunk(index, {"tool_calls": [opening]})
            arguments = call.arguments
            for start in range(0, len(arguments), _ARGUMENT_PIECE):
                piece = arguments[start : start + _ARGUMENT_PIECE]
                _chunk(
                    index, {"tool_calls": [{"index": position, "function": {"arguments": piece}}]}
                )
        _chunk(index, {}, _FINISH[completion.finish])
    if include_usage:
        usage = _usage(prompt, completion.completion_tokens * n)
        events.append(SSEEvent(None, {**head, "choices": [], "usage": usage}))
    events.append(SSEEvent(None, DONE))
    return events
