"""Anthropic messages: request to `Conversation`, `Completion` to message or events."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from worksample.mockllm._catalogue import ModelSpec
from worksample.mockllm._model.conversation import Conversation, ToolCall, Turn
from worksample.mockllm._model.responder import Completion
from worksample.mockllm._model.tokenizer import count_message_tokens
from worksample.mockllm._wire.anthropic.schema import (
    DocumentBlock,
    MessagesRequest,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from worksample.mockllm._wire.errors import MockError
from worksample.mockllm._wire.sse import SSEEvent, dump_json

__all__ = ["build_events", "build_message", "check_context", "to_conversation"]

_STOP = {
    "stop": "end_turn",
    "stop_sequence": "stop_sequence",
    "length": "max_tokens",
    "tool_calls": "tool_use",
}
_PIECE = re.compile(r"\s*\S+|\s+")
_ARGUMENT_PIECE = 12


def tool_use_id(digest: str, index: int) -> str:
    """Deterministic ``toolu_...`` id of the `index`-th tool call of a reply."""
    return "toolu_" + hashlib.blake2b(f"{digest}:{index}".encode(), digest_size=12).hexdigest()


def _block_text(block: Any) -> str:
    if isinstance(block, TextBlock):
        return block.text
    if isinstance(block, DocumentBlock) and block.source.get("type") == "text":
        title = block.title or ""
        return f'<doc id="{title}">{block.source.get("data", "")}</doc>'
    return ""


def _result_text(block: ToolResultBlock) -> str:
    if isinstance(block.content, str):
        return block.content
    return "\n".join(_block_text(part) for part in block.content)


def _check_tool_pairs(request: MessagesRequest) -> None:
    messages = request.messages
    for index, message in enumerate(messages):
        if isinstance(message.content, str):
            continue
        uses = [b.id for b in message.content if isinstance(b, ToolUseBlock)]
        if message.role == "assistant" and uses:
            following = messages[index + 1] if index + 1 < len(messages) else None
            answered = (
                {b.tool_use_id for b in following.content if isinstance(b, ToolResultBlock)}
                if following is not None and not isinstance(following.content, str)
                else set()
            )
            missing = [u for u in uses if u not in answered]
            if missing:
                raise MockError(
                    400,
                    f"messages.{index + 1}: `tool_use` ids were found without `tool_result` "
                    f"blocks immediately after: {', '.join(missing)}. Each `tool_use` block must "
                    "have a corresponding `tool_result` block in the next message.",
                )
        previous = messages[index - 1] if index else None
        known = (
            {b.id for b in previous.content if isinstance(b, ToolUseBlock)}
            if previous is not None and not isinstance(previous.content, str)
            else set()
        )
        for position, block in enumerate(message.content):
            if isinstance(block, ToolResultBlock) and block.tool_use_id not in known:
                raise MockError(
                    400,
                    f"messages.{index}.content.{position}: unexpected `tool_use_id` found in "
                    f"`tool_result` blocks: {block.tool_use_id}. Each `tool_result` block must "
                    "have a corresponding `tool_use` block in the previous message.",
                )


def to_conversation(request: MessagesRequest) -> tuple[Conversation, list[str]]:
    """The neutral conversation, and the texts its prompt tokens are counted from."""
    _check_tool_pairs(request)
    turns: list[Turn] = []
    if request.system is not None:
        system = request.system
        text = system if isinstance(system, str) else "\n".join(b.text for b in system)
        turns.append(Turn("system", text))
    names: dict[str, str] = {}
    for message in request.messages:
        if isinstance(message.content, str):
            turns.append(Turn(message.role, message.content))
            continue
        calls = []
        for block in message.content:
            if isinstance(block, ToolUseBlock):
                calls.append(ToolCall(block.id, block.name, dump_json(block.input)))
                names[block.id] = block.name
            elif isinstance(block, ToolResultBlock):
                turns.append(
                    Turn(
                        "tool",
                        _result_text(block),
                        tool_call_id=block.tool_use_id,
                        tool_name=names.get(block.tool_use_id),
                    )
                )
        text = "\n".join(t for t in map(_block_text, message.content) if t)
        if message.role == "assistant" or text:
            turns.append(Turn(message.role, text, tool_calls=tuple(calls)))
    texts = [t.text for t in turns]
    texts.extend(c.name + " " + c.arguments for t in turns for c in t.tool_calls)
    texts.extend(dump_json(t.model_dump(exclude_none=True)) for t in request.tools or ())
    tools = tuple(t.name for t in request.tools or ())
    return Conversation(model=request.model, turns=tuple(turns), tools=tools), texts


def check_context(spec: ModelSpec, texts: list[str], max_tokens: int) -> int:
    """Input tokens, or Anthropic's 400 when the prompt or `max_tokens` do not fit."""
    if max_tokens > spec.max_output_tokens:
        raise MockError(
            400,
            f"max_tokens: {max_tokens} > {spec.max_output_tokens}, which is the maximum "
            f"allowed number of output tokens for {spec.id}",
        )
    prompt = count_message_tokens(texts)
    if prompt > spec.context_window:
        raise MockError(400, f"prompt is too long: {prompt} tokens > {spec.context_window} maximum")
    if prompt + max_tokens > spec.context_window:
        raise MockError(
            400,
            f"input length and `max_tokens` exceed context limit: {prompt} + {max_tokens} > "
            f"{spec.context_window}, decrease input length or `max_tokens` and try again",
        )
    return prompt


def _input_object(arguments: str) -> dict[str, Any]:
    try:
        value = json.loads(arguments)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _usage(prompt: int, output: int) -> dict[str, Any]:
    return {
        "input_tokens": prompt,
        "output_tokens": output,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "service_tier": "standard",
    }


def _message(digest: str, model: str, content: list[Any]) -> dict[str, Any]:
    return {
        "id": "msg_" + digest,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": None,
        "stop_sequence": None,
    }


def build_message(
    completion: Completion, *, digest: str, model: str, prompt: int
) -> dict[str, Any]:
    """The ``message`` object."""
    content: list[Any] = []
    calls = completion.reply.tool_calls
    if completion.text or not calls:
        content.append({"type": "text", "text": completion.text or ""})
    content.extend(
        {
            "type": "tool_use",
            "id": tool_use_id(digest, i),
            "name": call.name,
            "input": _input_object(call.arguments),
        }
        for i, call in enumerate(calls)
    )
    body = _message(digest, model, content)
    body["stop_reason"] = _STOP[completion.finish]
    body["stop_sequence"] = completion.stop_sequence
    body["usage"] = _usage(prompt, completion.completion_tokens)
    return body


def build_events(completion: Completion, *, digest: str, model: str, prompt: int) -> list[SSEEvent]:
    """message_start, ping, each block's start/deltas/stop, message_delta, message_stop."""
    start = _message(digest, model, [])
    start["usage"] = _usage(prompt, 1)
    events = [
        SSEEvent("message_start", {"type": "message_start", "message": start}),
        SSEEvent("ping", {"type": "ping"}),
    ]
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    calls = completion.reply.tool_calls
    if completion.text or not calls:
        deltas = [{"type": "text_delta", "text": p} for p in _PIECE.findall(completion.text or "")]
        blocks.append(({"type": "text", "text": ""}, deltas))
    for i, call in enumerate(calls):
        opening = {"type": "tool_use", "id": tool_use_id(digest, i), "name": call.name, "input": {}}
        pieces = [
            call.arguments[s : s + _ARGUMENT_PIECE]
            for s in range(0, len(call.arguments), _ARGUMENT_PIECE)
        ]
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in ["", *pieces]]
        blocks.append((opening, deltas))
    for index, (opening, deltas) in enumerate(blocks):
        events.append(
            SSEEvent(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": opening},
            )
        )
        events.extend(
            SSEEvent(
                "content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}
            )
            for d in deltas
        )
        events.append(
            SSEEvent("content_block_stop", {"type": "content_block_stop", "index": index})
        )
    delta = {"stop_reason": _STOP[completion.finish], "stop_sequence": completion.stop_sequence}
    usage = {"output_tokens": completion.completion_tokens}
    events.append(
        SSEEvent("message_delta", {"type": "message_delta", "delta": delta, "usage": usage})
    )
    events.append(SSEEvent("message_stop", {"type": "message_stop"}))
    return events
