"""Anthropic-compatible routes: ``POST /v1/messages`` and ``/v1/messages/count_tokens``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response
from worksample.mockllm._catalogue import find_model
from worksample.mockllm._model.conversation import Reply
from worksample.mockllm._model.responder import complete, decide_reply
from worksample.mockllm._model.tokenizer import count_message_tokens
from worksample.mockllm._server.exchange import Answer, Exchange, run_exchange
from worksample.mockllm._server.log import TokenUsage
from worksample.mockllm._server.state import MockState
from worksample.mockllm._wire.anthropic.messages import (
    build_events,
    build_message,
    check_context,
    to_conversation,
)
from worksample.mockllm._wire.anthropic.schema import CountTokensRequest, MessagesRequest
from worksample.mockllm._wire.errors import MockError
from worksample.mockllm._wire.validation import translate_validation_error

__all__ = ["build_anthropic_router"]


async def _messages(exchange: Exchange, body: Any) -> Answer:
    if "anthropic-version" not in exchange.request.headers:
        raise MockError(400, "anthropic-version: header is required")
    try:
        request = MessagesRequest.model_validate(body)
    except ValidationError as exc:
        raise translate_validation_error(exc, "anthropic") from None
    spec = find_model(exchange.state.catalogue, request.model, "chat", "anthropic")
    conversation, texts = to_conversation(request)
    prompt = check_context(spec, texts, request.max_tokens)
    reply = decide_reply(conversation, exchange.state.scenario, "anthropic")
    if request.tool_choice is not None and request.tool_choice.type == "none" and reply.tool_calls:
        reply = Reply(text=reply.text or "", source=reply.source, citations=reply.citations)
    completion = complete(
        reply, max_tokens=request.max_tokens, stop=tuple(request.stop_sequences or ())
    )
    usage = TokenUsage(
        prompt_tokens=prompt,
        completion_tokens=completion.completion_tokens,
        total_tokens=prompt + completion.completion_tokens,
    )
    digest = exchange.digest or exchange.record.request_id
    if request.stream:
        events = build_events(completion, digest=digest, model=request.model, prompt=prompt)
        return Answer(events=events, usage=usage, reply_source=reply.source)
    message = build_message(completion, digest=digest, model=request.model, prompt=prompt)
    return Answer(body=message, usage=usage, reply_source=reply.source)


async def _count_tokens(exchange: Exchange, body: Any) -> Answer:
    if "anthropic-version" not in exchange.request.headers:
        raise MockError(400, "anthropic-version: header is required")
    try:
        request = CountTokensRequest.model_validate(body)
    except ValidationError as exc:
        raise translate_validation_error(exc, "anthropic") from None
    find_model(exchange.state.catalogue, request.model, "chat", "anthropic")
    # The same conversation a message request would make, so the counts agree.
    as_message = MessagesRequest.model_construct(
        model=request.model,
        max_tokens=1,
        messages=request.messages,
        system=request.system,
        tools=request.tools,
    )
    _, texts = to_conversation(as_message)
    tokens = count_message_tokens(texts)
    return Answer(body={"input_tokens": tokens}, usage=TokenUsage(prompt_tokens=tokens))


def build_anthropic_router(state: MockState, api_key: str) -> APIRouter:
    """Routes of the Anthropic API."""
    router = APIRouter()

    async def messages(request: Request) -> Response:
        return await run_exchange(
            request, provider="anthropic", endpoint="messages", state=state, api_key=api_key,
            handler=_messages,
        )  # fmt: skip

    async def count_tokens(request: Request) -> Response:
        return await run_exchange(
            request, provider="anthropic", endpoint="messages.count_tokens", state=state,
            api_key=api_key, handler=_count_tokens,
        )  # fmt: skip

    router.add_route("/v1/messages", messages, methods=["POST"])
    router.add_route("/v1/messages/count_tokens", count_tokens, methods=["POST"])
    return router
