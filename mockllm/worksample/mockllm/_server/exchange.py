"""One API request from arrival to log entry: auth, body, scripted failures, answer.

Routes stay thin: they hand `run_exchange` a handler that turns the parsed body
into an `Answer` (a JSON body or a list of SSE events). Everything around it (the
provider's auth check, the request log, scripted errors, delays, stalls and
broken streams, error bodies) happens here, the same way for every endpoint.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import from_json
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from worksample.mockllm._scenario import (
    DisconnectFailure,
    ErrorFailure,
    Failure,
    SlowFailure,
    StallFailure,
    StreamErrorFailure,
)
from worksample.mockllm._server.log import LogEntry, TokenUsage
from worksample.mockllm._server.state import MockState
from worksample.mockllm._wire.errors import MockError, Provider
from worksample.mockllm._wire.sse import SSEEvent, dump_json, encode_event, encode_json

__all__ = ["Answer", "Exchange", "StreamDisconnect", "run_exchange"]

_OPENAI_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)
_JSON_ERROR = {
    "openai": "We could not parse the JSON body of your request. (HINT: This likely means you "
    "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what "
    "was sent was not valid JSON.)",
    "anthropic": "There was an error parsing the body of your request: it is not valid JSON.",
}
_DEFAULT_MESSAGES = {
    429: "Rate limit reached for requests. Please try again later.",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The service is temporarily unavailable. Please try again later.",
    529: "Overloaded",
}
_POLL_SECONDS = 0.05
_logger = logging.getLogger("worksample.mockllm")


class StreamDisconnect(Exception):
    """Raised inside a stream to drop the connection, as a scripted failure asks."""


@dataclass(slots=True)
class Answer:
    """What a route handler produces: a JSON body, or the events of a stream."""

    body: Any = None
    raw: bytes | None = None
    """The body already encoded; `body` is then only what the log keeps."""
    events: list[SSEEvent] | None = None
    status: int = 200
    usage: TokenUsage | None = None
    reply_source: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Exchange:
    """What a handler may read besides the body."""

    request: Request
    provider: Provider
    state: MockState
    record: LogEntry
    raw: bytes | None = None
    """The body as sent (a POST's)."""

    @property
    def digest(self) -> str | None:
        """Hash of the raw body: the seed of response and tool-call ids (made when asked
        for: embeddings have no ids). SHA-256, which OpenSSL computes with the CPU's
        SHA instructions where it has them: twice as fast as BLAKE2b on a chat body."""
        if self.raw is None:
            return None
        return hashlib.sha256(self.raw).hexdigest()[:24]


Handler = Callable[[Exchange, Any], Awaitable[Answer]]


def _mask(key: str) -> str:
    return key[:3] + "*" * max(len(key) - 7, 4) + key[-4:] if len(key) > 8 else "****"


def _check_auth(request: Request, provider: Provider, api_key: str) -> MockError | None:
    bearer = request.headers.get("authorization", "")
    sent = bearer[7:].strip() if bearer[:7].lower() == "bearer " else None
    if provider == "anthropic":
        sent = request.headers.get("x-api-key", sent)
        if not sent:
            return MockError(401, "x-api-key header is required")
        if not hmac.compare_digest(sent.encode(), api_key.encode()):
            return MockError(401, "invalid x-api-key")
        return None
    if not sent:
        return MockError(401, _OPENAI_NO_KEY)
    if not hmac.compare_digest(sent.encode(), api_key.encode()):
        return MockError(
            401,
            f"Incorrect API key provided: {_mask(sent)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )
    return None


def _failure_error(failure: ErrorFailure) -> MockError:
    headers: dict[str, str] = {}
    if failure.retry_after_ms is not None:
        headers["retry-after-ms"] = str(failure.retry_after_ms)
    if failure.retry_after is not None:
        headers["retry-after"] = str(failure.retry_after)
    if failure.should_retry is not None:
        headers["x-should-retry"] = "true" if failure.should_retry else "false"
    code = failure.code
    if code is None and failure.status == 429:
        code = "rate_limit_exceeded"
    message = failure.message or _DEFAULT_MESSAGES.get(failure.status, "Scripted failure.")
    return MockError(
        failure.status, message, code=code, error_type=failure.error_type, headers=headers
    )


async def _sleep_unless_gone(request: Request, seconds: float) -> bool:
    """Sleep up to `seconds`; False if the client went away meanwhile."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(left, _POLL_SECONDS))
        if await request.is_disconnected():
            return False
    return True


def _url_path(request: Request) -> str:
    # What `request.url.path` gives, without building the whole URL (hot path).
    return str(request.scope["path"]).replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")


def _id_header(provider: Provider) -> str:
    return "x-request-id" if provider == "openai" else "request-id"


def _json_response(
    record: LogEntry, body: Any, status: int, headers: dict[str, str], raw: bytes | None = None
) -> Response:
    """`body` as JSON (or `raw`, if given, with `body` what the log shows of it), and into
    the log."""
    logged = encode_json(body)
    record.response_json = logged
    content = logged if raw is None else raw
    record.size += len(content)
    return Response(content, status, headers, media_type="application/json")


def _stream_response(
    exchange: Exchange, answer: Answer, failure: Failure | None, started: float
) -> StreamingResponse:
    record, state = exchange.record, exchange.state
    events = answer.events or []
    delay = state.scenario.stream_chunk_delay_ms / 1000.0
    cut = (
        failure
        if isinstance(failure, StallFailure | StreamErrorFailure | DisconnectFailure)
        else None
    )
    if cut is not None:
        record.failure = cut.kind
    record.response = []

    async def _events() -> AsyncIterator[bytes]:
        finished = False
        try:
            for index, event in enumerate(events):
                if cut is not None and index == cut.after_chunks:
                    if isinstance(cut, StallFailure):
                        await asyncio.sleep(cut.seconds)
                    elif isinstance(cut, StreamErrorFailure):
                        error = _stream_error(exchange.provider, cut, record.request_id)
                        record.error = error.data
                        record.response.append(error.as_log())
                        chunk = encode_event(error)
                        record.size += len(chunk)
                        yield chunk
                        finished = True
                        return
                    else:
                        raise StreamDisconnect(f"scripted disconnect after {index} events")
                if delay and index:
                    await asyncio.sleep(delay)
                record.response.append(event.as_log())
                chunk = encode_event(event)
                record.size += len(chunk)
                yield chunk
            finished = True
        finally:
            state.log.close(record, started=started, completed=finished)

    return StreamingResponse(_events(), answer.status, answer.headers, "text/event-stream")


def _stream_error(provider: Provider, failure: StreamErrorFailure, request_id: str) -> SSEEvent:
    message = failure.message or _DEFAULT_MESSAGES.get(failure.status, "Internal server error")
    error = MockError(failure.status, message, error_type=failure.error_type)
    if provider == "openai":
        return SSEEvent(None, error.body("openai", request_id))
    return SSEEvent("error", error.body("anthropic", request_id))


def _load_json(raw: bytes) -> Any:
    """``json.loads(raw)``, five times faster on a chat request: pydantic-core's parser
    gives the same values for any document both accept (NaN included); whatever it
    refuses (a BOM, UTF-16, lone surrogates, deep nesting ...) goes to ``json.loads``,
    which decides, except that a ValueError refuses two more kinds of document: one
    nested too deeply for Python to read, and one holding a lone surrogate
    (``"\\ud800"`` is valid JSON but no text: no reply or log quoting it could be
    written as UTF-8)."""
    try:
        return from_json(raw)
    except ValueError:
        pass
    try:
        value = json.loads(raw)
        dump_json(value).encode()  # UnicodeEncodeError (a ValueError) on a lone surrogate
    except RecursionError:
        raise ValueError("nested too deeply") from None
    return value


# Far above any request the models accept (a full context window is under 1 MiB
# of text); the cap keeps one request from filling the mock's memory.
MAX_BODY_BYTES = 8 << 20
_TOO_LARGE = f"The request body is larger than {MAX_BODY_BYTES >> 20} MiB."


async def _read_body(request: Request) -> bytes:
    """The body, refused (413) past MAX_BODY_BYTES: a declared length before a byte
    is read, a chunked body as soon as it passes the cap."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise MockError(413, _TOO_LARGE)
    # What `request.stream()` reads, without an async generator around each message.
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise MockError(413, _TOO_LARGE)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _parse_body(request: Request, provider: Provider, record: LogEntry) -> tuple[Any, bytes]:
    raw = await _read_body(request)
    try:
        body = _load_json(raw)
    except ValueError:
        record.body = raw.decode("utf-8", errors="replace")
        record.size += len(raw)
        raise MockError(400, _JSON_ERROR[provider]) from None
    record.body_json = raw
    record.size += len(raw)
    if isinstance(body, dict):
        model = body.get("model")
        record.model = model if isinstance(model, str) else None
        record.stream = body.get("stream") is True
    return body, raw


async def run_exchange(
    request: Request,
    *,
    provider: Provider,
    endpoint: str,
    state: MockState,
    api_key: str,
    handler: Handler,
) -> Response:
    """Answer one API request with `handler`, logging it and applying scripted failures."""
    started = time.perf_counter()
    auth_error = _check_auth(request, provider, api_key)
    record = state.log.open(
        endpoint=endpoint,
        method=request.method,
        path=_url_path(request),
        headers=request.scope["headers"],
        auth_ok=auth_error is None,
    )
    state.sync()
    headers = {_id_header(provider): record.request_id}
    failure = None if auth_error else state.failure_for(endpoint, record.call, record.seq)
    try:
        if auth_error is not None:
            raise auth_error
        body, raw = None, None
        if request.method == "POST":
            body, raw = await _parse_body(request, provider, record)
        if failure is not None and not (
            isinstance(failure, StreamErrorFailure | DisconnectFailure)
            or (isinstance(failure, StallFailure) and failure.after_chunks and record.stream)
        ):
            record.failure = failure.kind
            if isinstance(failure, ErrorFailure):
                raise _failure_error(failure)
            wait = (
                failure.delay_ms / 1000.0 if isinstance(failure, SlowFailure) else failure.seconds
            )
            if not await _sleep_unless_gone(request, wait):
                record.status = 499
                state.log.close(record, started=started, completed=False)
                return Response(status_code=499)
            failure = None
        elif not record.stream:
            failure = None  # stream failures leave plain requests alone
        try:
            answer = await handler(Exchange(request, provider, state, record, raw), body)
        except MockError:
            raise
        except Exception as exc:
            # A bug in the mock: say so in the provider's shape and keep the trace.
            _logger.exception("mock LLM failed on %s %s", request.method, request.url.path)
            raise MockError(500, f"The mock LLM failed: {type(exc).__name__}: {exc}") from exc
    except MockError as error:
        record.status = error.status
        record.error = error.body(provider, record.request_id)
        response = _json_response(record, record.error, error.status, {**headers, **error.headers})
        state.log.close(record, started=started)
        return response
    record.status = answer.status
    if answer.usage is not None:
        usage = answer.usage
        record.usage = (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
    record.reply_source = answer.reply_source
    answer.headers.update(headers)
    if answer.events is not None:
        return _stream_response(
            Exchange(request, provider, state, record), answer, failure, started
        )
    response = _json_response(record, answer.body, answer.status, answer.headers, answer.raw)
    state.log.close(record, started=started)
    return response
