"""OpenAI-compatible routes: ``/v1/models``, ``/v1/chat/completions``, ``/v1/embeddings``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from worksample.mockllm._catalogue import ModelSpec, find_model
from worksample.mockllm._model.conversation import Reply
from worksample.mockllm._model.embeddings import embeddings_base64, embeddings_json
from worksample.mockllm._model.minilm import ModelUnavailableError
from worksample.mockllm._model.responder import complete, decide_reply
from worksample.mockllm._model.tokenizer import count_tokens
from worksample.mockllm._server.exchange import Answer, Exchange, run_exchange
from worksample.mockllm._server.log import TokenUsage
from worksample.mockllm._server.state import MockState
from worksample.mockllm._wire.errors import MockError, Provider
from worksample.mockllm._wire.openai.chat import (
    build_chunks,
    build_completion,
    check_context,
    to_conversation,
)
from worksample.mockllm._wire.openai.schema import ChatRequest, EmbeddingRequest
from worksample.mockllm._wire.sse import dump_json
from worksample.mockllm._wire.validation import translate_validation_error

__all__ = ["build_openai_router"]

_BAD_INPUT = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
_MAX_INPUTS = 2048


def _model_object(spec: ModelSpec) -> dict[str, Any]:
    return {"id": spec.id, "object": "model", "created": spec.created, "owned_by": spec.owned_by}


async def _chat(exchange: Exchange, body: Any) -> Answer:
    try:
        request = ChatRequest.model_validate(body)
    except ValidationError as exc:
        raise translate_validation_error(exc, "openai") from None
    spec = find_model(exchange.state.catalogue, request.model, "chat", exchange.provider)
    conversation, texts = to_conversation(request)
    max_tokens = request.max_completion_tokens or request.max_tokens
    prompt = check_context(spec, texts, max_tokens)
    scenario = exchange.state.scenario
    reply = decide_reply(conversation, scenario, "openai")
    if request.tool_choice == "none" and reply.tool_calls:
        reply = Reply(text=reply.text or "", source=reply.source, citations=reply.citations)
    stop = (request.stop,) if isinstance(request.stop, str) else tuple(request.stop or ())
    completion = complete(reply, max_tokens=max_tokens, stop=stop)
    n = request.n or 1
    usage = TokenUsage(
        prompt_tokens=prompt,
        completion_tokens=completion.completion_tokens * n,
        total_tokens=prompt + completion.completion_tokens * n,
    )
    digest = exchange.digest or exchange.record.request_id
    created = scenario.created
    if request.stream:
        options = request.stream_options
        events = build_chunks(
            completion,
            digest=digest,
            model=request.model,
            created=created,
            n=n,
            prompt=prompt,
            include_usage=bool(options and options.include_usage),
        )
        return Answer(events=events, usage=usage, reply_source=reply.source)
    body = build_completion(
        completion, digest=digest, model=request.model, created=created, n=n, prompt=prompt
    )
    return Answer(body=body, usage=usage, reply_source=reply.source)


async def _embeddings(exchange: Exchange, body: Any) -> Answer:
    try:
        request = EmbeddingRequest.model_validate(body)
    except ValidationError as exc:
        raise translate_validation_error(exc, "openai") from None
    spec = find_model(exchange.state.catalogue, request.model, "embedding", exchange.provider)
    inputs = [request.input] if isinstance(request.input, str) else request.input
    if not inputs or len(inputs) > _MAX_INPUTS:
        raise MockError(400, _BAD_INPUT, param="input")
    if not all(isinstance(text, str) for text in inputs):
        raise MockError(
            400,
            "Token-array inputs are not supported by this mock: send strings.",
            param="input",
            code="invalid_value",
        )
    texts: list[str] = [text for text in inputs if isinstance(text, str)]
    if any(not text for text in texts):
        raise MockError(400, _BAD_INPUT, param="input")
    if request.dimensions is not None and request.dimensions > spec.dimensions:
        raise MockError(
            400,
            f"Invalid 'dimensions': {request.model} has at most {spec.dimensions} dimensions, "
            f"but {request.dimensions} were requested.",
            param="dimensions",
            code="invalid_value",
        )
    counts = [count_tokens(text) for text in texts]
    for count in counts:
        if count > spec.context_window:
            raise MockError(
                400,
                f"This model's maximum context length is {spec.context_window} tokens, however "
                f"you requested {count} tokens ({count} in your prompt; 0 for the completion). "
                "Please reduce your prompt; or completion length.",
                param="input",
                code="context_length_exceeded",
            )
    # The vectors are long (a float one is ~8 kB of JSON): the body is joined from its
    # pieces once, never copied piece by piece.
    quote = '"' if request.encoding_format == "base64" else ""
    encode = embeddings_base64 if quote else embeddings_json
    # A forward pass per text costs milliseconds: it runs in a worker thread, so the
    # server goes on answering other requests (and its own failure schedule) meanwhile.
    try:
        encoded = await run_in_threadpool(encode, texts, spec.dimensions, request.dimensions)
    except ModelUnavailableError as exc:
        # 501, not 500: the SDKs retry a 500, and no retry will install the model.
        raise MockError(501, str(exc), code="model_unavailable") from None
    pieces = ['{"object":"list","data":[']
    for index, vector in enumerate(encoded):
        if index:
            pieces.append(",")
        pieces.append(f'{{"object":"embedding","index":{index},"embedding":{quote}')
        pieces.append(vector)
        pieces.append(quote + "}")
    total = sum(counts)
    usage = {"prompt_tokens": total, "total_tokens": total}
    pieces.append(f'],"model":{dump_json(request.model)},"usage":{dump_json(usage)}}}')
    elided = f"<{request.dimensions or spec.dimensions} floats>"
    logged = [
        {"object": "embedding", "index": index, "embedding": elided} for index in range(len(texts))
    ]
    log = {"object": "list", "data": logged, "model": request.model, "usage": usage}
    return Answer(
        body=log,
        raw="".join(pieces).encode(),
        usage=TokenUsage(prompt_tokens=total, total_tokens=total),
    )


def _anthropic_model(spec: ModelSpec) -> dict[str, Any]:
    return {
        "type": "model",
        "id": spec.id,
        "display_name": spec.id,
        "created_at": "2025-01-01T00:00:00Z",
        "lifecycle": "active",
        "max_input_tokens": spec.context_window,
        "max_tokens": spec.max_output_tokens,
    }


def _list_models(provider: str, state: MockState) -> Any:
    specs = [s for s in state.catalogue.values() if s.provider == provider]
    if provider == "openai":
        return {"object": "list", "data": [_model_object(s) for s in specs]}
    data = [_anthropic_model(s) for s in specs if s.kind == "chat"]
    return {
        "data": data,
        "has_more": False,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


def build_openai_router(state: MockState, api_key: str) -> APIRouter:
    """Routes of the OpenAI API; ``/v1/models`` answers in Anthropic's shape to requests
    that carry an ``anthropic-version`` header.

    They are plain Starlette routes: FastAPI's dependency machinery has nothing to
    do for them and would cost a tenth of a warm request.
    """
    router = APIRouter()

    def _provider(request: Request) -> Provider:
        return "anthropic" if "anthropic-version" in request.headers else "openai"

    async def list_models(request: Request) -> Response:
        provider = _provider(request)

        async def handler(exchange: Exchange, body: Any) -> Answer:
            return Answer(body=_list_models(provider, state))

        return await run_exchange(
            request, provider=provider, endpoint="models", state=state, api_key=api_key,
            handler=handler,
        )  # fmt: skip

    async def retrieve_model(request: Request) -> Response:
        provider = _provider(request)
        model_id = str(request.path_params["model_id"])

        async def handler(exchange: Exchange, body: Any) -> Answer:
            spec = state.catalogue.get(model_id)
            if spec is None or spec.provider != provider:
                find_model(state.catalogue, model_id, "chat", provider)
            assert spec is not None
            return Answer(
                body=_model_object(spec) if provider == "openai" else _anthropic_model(spec)
            )

        return await run_exchange(
            request, provider=provider, endpoint="models", state=state, api_key=api_key,
            handler=handler,
        )  # fmt: skip

    async def chat_completions(request: Request) -> Response:
        return await run_exchange(
            request, provider="openai", endpoint="chat.completions", state=state,
            api_key=api_key, handler=_chat,
        )  # fmt: skip

    async def embeddings(request: Request) -> Response:
        return await run_exchange(
            request, provider="openai", endpoint="embeddings", state=state, api_key=api_key,
            handler=_embeddings,
        )  # fmt: skip

    router.add_route("/v1/models", list_models, methods=["GET"])
    router.add_route("/v1/models/{model_id:path}", retrieve_model, methods=["GET"])
    router.add_route("/v1/chat/completions", chat_completions, methods=["POST"])
    router.add_route("/v1/embeddings", embeddings, methods=["POST"])
    return router
