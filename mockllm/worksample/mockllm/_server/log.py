"""The request log and counters the trusted grader reads through the admin API.

While a request is answered its record is a `LogEntry`, a plain slotted object
that is cheap to fill in (a pydantic model cost a twentieth of a warm chat
completion); the log turns entries into `RequestRecord` models when it is read.
An entry keeps the JSON bodies of the request and of the response as bytes and
parses them only then: smaller in memory than the parsed bodies, exactly what
``json.loads`` gave on arrival, and nothing for Python's garbage collector to
walk. The record of an answered request is the one object in it the collector
tracks, where it held a dozen (dicts and lists of the response, the usage model,
the header list; an error's record still keeps its parsed error body), and a
full collection, which walks every tracked object in the process, comes that
much less often.

The log is bounded twice: by count (`limit` records) and by size (`max_bytes`,
counted as the request and response body bytes of each record plus
`RECORD_OVERHEAD`). Past either bound the oldest records are dropped first; the
newest one is always kept, even if it alone is larger than `max_bytes`.
"""

from __future__ import annotations

import json
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, Field

__all__ = [
    "DEFAULT_LOG_BYTES",
    "DEFAULT_LOG_LIMIT",
    "RECORD_OVERHEAD",
    "Counters",
    "LogBackend",
    "LogEntry",
    "RequestLog",
    "RequestRecord",
    "TokenUsage",
    "finish_record",
    "new_record",
    "tally",
]

DEFAULT_LOG_LIMIT = 2_000
"""Records kept by default."""
DEFAULT_LOG_BYTES = 64 * 1024 * 1024
"""Bytes of records kept by default (see `RECORD_OVERHEAD`)."""
RECORD_OVERHEAD = 1_024
"""What a record counts besides its bodies: headers, numbers, the objects holding them."""
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


@dataclass(slots=True)
class LogEntry:
    """A `RequestRecord` being filled in while its request is answered."""

    seq: int
    endpoint: str
    call: int
    request_id: str
    method: str
    path: str
    raw_headers: tuple[tuple[bytes, bytes], ...]
    """The headers as the server passed them: decoded and redacted when read."""
    auth_ok: bool
    started_at: float
    body: Any = None
    """The body when it is not kept as `body_json`: the raw text of a non-JSON body."""
    body_json: bytes | None = None
    """A JSON body as sent, parsed when the record is read."""
    stream: bool = False
    model: str | None = None
    status: int = 0
    response: Any = None
    """The response when it is not kept as `response_json`: the events of a stream."""
    response_json: bytes | None = None
    """A JSON response in the form the log shows, parsed when the record is read."""
    error: Any = None
    failure: str | None = None
    reply_source: str | None = None
    usage: tuple[int, int, int] | None = None
    """Prompt, completion and total tokens: a plain tuple, which the collector stops
    tracking (it keeps tracking a named tuple, as any subclass of tuple)."""
    duration_ms: float = 0.0
    completed: bool = False
    size: int = RECORD_OVERHEAD
    """What the record counts against the log's `max_bytes`: body bytes and overhead."""
    counted: bool = False
    """Whether `size` is in the log's total (from `close` until dropped)."""
    dropped: bool = False
    """Set when the log let the entry go."""

    def to_record(self) -> RequestRecord:
        """The record as the admin API shows it (a snapshot, for an unfinished stream)."""
        body = self.body if self.body_json is None else json.loads(self.body_json)
        response = self.response if self.response_json is None else json.loads(self.response_json)
        usage = None
        if self.usage is not None:
            prompt, completion, total = self.usage
            usage = TokenUsage(
                prompt_tokens=prompt, completion_tokens=completion, total_tokens=total
            )
        return RequestRecord.model_construct(
            seq=self.seq,
            endpoint=self.endpoint,
            call=self.call,
            request_id=self.request_id,
            method=self.method,
            path=self.path,
            headers=_readable(self.raw_headers),
            auth_ok=self.auth_ok,
            body=body,
            stream=self.stream,
            model=self.model,
            status=self.status,
            response=response,
            error=self.error,
            failure=self.failure,
            reply_source=self.reply_source,
            usage=usage,
            started_at=self.started_at,
            duration_ms=self.duration_ms,
            completed=self.completed,
        )


def new_record(
    *,
    seq: int,
    call: int,
    endpoint: str,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    auth_ok: bool,
) -> LogEntry:
    """A fresh entry (its headers are read, and credentials redacted, when it is)."""
    return LogEntry(
        seq, endpoint, call, f"req_{seq:08d}", method, path, tuple(headers), auth_ok, time.time()
    )


def _readable(headers: tuple[tuple[bytes, bytes], ...]) -> dict[str, str]:
    kept = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in headers}
    for name in _SECRET_HEADERS.intersection(kept):
        kept[name] = "<redacted>"
    return kept


def finish_record(record: LogEntry, *, started: float, completed: bool) -> None:
    """Stamp the duration (from the `time.perf_counter` value `started`)."""
    record.duration_ms = round((time.perf_counter() - started) * 1000.0, 3)
    record.completed = completed


def tally(
    records: Iterable[LogEntry | RequestRecord], requests: int, calls: dict[str, int]
) -> Counters:
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
        usage = record.usage
        if isinstance(usage, TokenUsage):
            prompt += usage.prompt_tokens
            completion += usage.completion_tokens
        elif usage is not None:
            prompt += usage[0]
            completion += usage[1]
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
    ) -> LogEntry:
        """Number a new request and start its record."""
        ...

    def close(self, record: LogEntry, *, started: float, completed: bool = True) -> None:
        """Finish `record` (completed, or abandoned by the client) and count it."""
        ...

    def records(self, *, since: int = 0, endpoint: str | None = None) -> list[RequestRecord]:
        """Finished records with ``seq > since``, optionally of one endpoint, oldest first."""
        ...

    def counters(self) -> Counters:
        """Totals since the last clear."""
        ...


class RequestLog:
    """In-memory log of the last `limit` requests (at most `max_bytes` of them, see the
    module's docstring), with per-endpoint call numbers."""

    def __init__(self, limit: int = DEFAULT_LOG_LIMIT, max_bytes: int = DEFAULT_LOG_BYTES) -> None:
        self._records: deque[LogEntry] = deque()
        self._limit = limit
        self._max_bytes = max_bytes
        self._bytes = 0
        self._calls: Counter[str] = Counter()
        self._seq = 0
        self._generation = 0

    @property
    def size(self) -> int:
        """Bytes the finished records kept count (see `LogEntry.size`)."""
        return self._bytes

    def _drop_oldest(self) -> None:
        entry = self._records.popleft()
        entry.dropped = True
        if entry.counted:
            self._bytes -= entry.size
            entry.counted = False

    @property
    def generation(self) -> int:
        """Bumped by every `clear`."""
        return self._generation

    def clear(self) -> None:
        """Forget every record and restart all numbering at 1."""
        for entry in self._records:
            entry.dropped, entry.counted = True, False
        self._records.clear()
        self._bytes = 0
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
    ) -> LogEntry:
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
        if len(self._records) > self._limit:
            self._drop_oldest()
        return record

    def close(self, record: LogEntry, *, started: float, completed: bool = True) -> None:
        """Finish `record` (already in the log, unless it was dropped meanwhile) and count
        its bytes, dropping the oldest records past `max_bytes`."""
        finish_record(record, started=started, completed=completed)
        if record.dropped:
            return
        record.counted = True
        self._bytes += record.size
        while self._bytes > self._max_bytes and self._records[0] is not record:
            self._drop_oldest()

    def records(self, *, since: int = 0, endpoint: str | None = None) -> list[RequestRecord]:
        """Records with ``seq > since``, optionally of one endpoint, oldest first.

        Records of streams still being sent are included, with ``completed`` false."""
        return [
            r.to_record()
            for r in self._records
            if r.seq > since and (endpoint is None or r.endpoint == endpoint)
        ]

    def counters(self) -> Counters:
        """Totals since the last clear (over the records still kept)."""
        return tally(self._records, self._seq, dict(self._calls))
