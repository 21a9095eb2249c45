"""The request log and counters the trusted grader reads through the admin API."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Iterable
from typing import Any, Protocol

from pydantic import BaseModel, Field

__all__ = [
    "Counters",
    "LogBackend",
    "RequestLog",
    "RequestRecord",
    "TokenUsage",
    "finish_record",
    "new_record",
    "tally",
]

_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "cookie", "proxy-authorization"})


class TokenUsage(BaseModel):
    """Tokens the mock billed for one request."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class RequestRecord(BaseModel):
    """One API request as the mock saw and answered it."""

    seq: int
    """1-based number among all API requests since the last load or reset."""
    endpoint: str
    """``chat.completions``, ``messages``, ``messages.count_tokens``, ``embeddings``,
    ``models`` or ``unknown``."""
    call: int
    """1-based number among requests to this endpoint (what failures' ``calls`` count)."""
    request_id: str
    method: str
    path: str
    headers: dict[str, str]
    """Request headers, lower-cased; credentials are replaced by ``<redacted>``."""
    auth_ok: bool
    body: Any = None
    """The JSON body as sent (the raw text if it was not JSON)."""
    stream: bool = False
    model: str | None = None
    status: int = 0
    response: Any = None
    """The JSON body returned, or for streams the list of ``{"event", "data"}`` sent.
    Embedding vectors are elided as ``"<N floats>"``."""
    error: Any = None
    """The error body, when the answer (or the stream) ended in an error."""
    failure: str | None = None
    """Kind of scripted failure applied, if any."""
    reply_source: str | None = None
    """``extractive``, ``injection`` or ``rule:<name>`` for chat requests."""
    usage: TokenUsage | None = None
    started_at: float = 0.0
    duration_ms: float = 0.0
    completed: bool = False
    """False while a stream is still being sent, or when the client went away."""


class Counters(BaseModel):
    """Totals since the last load or reset."""

    requests: int = 0
    by_endpoint: dict[str, int] = Field(default_factory=dict)
    by_status: dict[str, int] = Field(default_factory=dict)
    failures: dict[str, int] = Field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0


def new_record(
    *,
    seq: int,
    call: int,
    endpoint: str,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    auth_ok: bool,
) -> RequestRecord:
    """A fresh record, credentials redacted (built without validation: hot path)."""
    kept = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in headers}
    for name in _SECRET_HEADERS.intersection(kept):
        kept[name] = "<redacted>"
    return RequestRecord.model_construct(
        seq=seq,
        endpoint=endpoint,
        call=call,
        request_id=f"req_{seq:08d}",
        method=method,
        path=path,
        headers=kept,
        auth_ok=auth_ok,
        body=None,
        stream=False,
        model=None,
        status=0,
        response=None,
        error=None,
        failure=None,
        reply_source=None,
        usage=None,
        started_at=time.time(),
        duration_ms=0.0,
        completed=False,
    )


def finish_record(record: RequestRecord, *, started: float, completed: bool) -> None:
    """Stamp the duration (from the `time.perf_counter` value `started`)."""
    record.duration_ms = round((time.perf_counter() - started) * 1000.0, 3)
    record.completed = completed


def tally(records: Iterable[RequestRecord], requests: int, calls: dict[str, int]) -> Counters:
    """Counters over finished `records`."""
    statuses: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    prompt = completion = 0
    for record in records:
        if not record.status:
            continue  # still being answered
        statuses[str(record.status)] += 1
        if record.failure is not None:
            failures[record.failure] += 1
        if record.usage is not None:
            prompt += record.usage.prompt_tokens
            completion += record.usage.completion_tokens
    return Counters(
        requests=requests,
        by_endpoint=calls,
        by_status=dict(statuses),
        failures=dict(failures),
        prompt_tokens=prompt,
        completion_tokens=completion,
    )


class LogBackend(Protocol):
    """Numbers requests and keeps their records: in memory, or shared by workers."""

    @property
    def generation(self) -> int:
        """Bumped by every `clear`; a change tells a worker to re-read the scenario."""
        ...

    def clear(self) -> None:
        """Forget every record and restart all numbering at 1."""
        ...

    def open(
        self,
        *,
        endpoint: str,
        method: str,
        path: str,
        headers: list[tuple[bytes, bytes]],
        auth_ok: bool,
    ) -> RequestRecord:
        """Number a new request and start its record."""
        ...

    def close(self, record: RequestRecord, *, started: float, completed: bool = True) -> None:
        """Finish `record` (completed, or abandoned by the client) and count it."""
        ...

    def records(self, *, since: int = 0, endpoint: str | None = None) -> list[RequestRecord]:
        """Finished records with ``seq > since``, optionally of one endpoint, oldest first."""
        ...

    def counters(self) -> Counters:
        """Totals since the last clear."""
        ...


class RequestLog:
    """In-memory log of the last `limit` requests, with per-endpoint call numbers."""

    def __init__(self, limit: int = 2_000) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=limit)
        self._calls: Counter[str] = Counter()
        self._finished: list[RequestRecord] = []
        self._seq = 0
        self._generation = 0

    @property
    def generation(self) -> int:
        """Bumped by every `clear`."""
        return self._generation

    def clear(self) -> None:
        """Forget every record and restart all numbering at 1."""
        self._records.clear()
        self._calls.clear()
        self._seq = 0
        self._generation += 1

    def open(
        self,
        *,
        endpoint: str,
        method: str,
        path: str,
        headers: list[tuple[bytes, bytes]],
        auth_ok: bool,
    ) -> RequestRecord:
        """Number a new request and start its record."""
        self._seq += 1
        self._calls[endpoint] += 1
        record = new_record(
            seq=self._seq,
            call=self._calls[endpoint],
            endpoint=endpoint,
            method=method,
            path=path,
            headers=headers,
            auth_ok=auth_ok,
        )
        self._records.append(record)
        return record

    def close(self, record: RequestRecord, *, started: float, completed: bool = True) -> None:
        """Finish `record`; it is already in the log."""
        finish_record(record, started=started, completed=completed)

    def records(self, *, since: int = 0, endpoint: str | None = None) -> list[RequestRecord]:
        """Records with ``seq > since``, optionally of one endpoint, oldest first.

        Records of streams still being sent are included, with ``completed`` false."""
        return [
            r
            for r in self._records
            if r.seq > since and (endpoint is None or r.endpoint == endpoint)
        ]

    def counters(self) -> Counters:
        """Totals since the last clear (over the records still kept)."""
        return tally(self._records, self._seq, dict(self._calls))
