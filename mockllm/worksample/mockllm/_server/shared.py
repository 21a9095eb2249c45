"""State shared by the uvicorn workers of one server, in a private directory.

With ``--workers N`` every worker is its own process, yet the grader must see one
server: one scenario, one numbering of calls (which scripted failures count),
one request log. The directory holds

* ``counters.bin``: the generation (bumped by every load or reset) and the
  request and per-endpoint call numbers, as little-endian int64 slots, updated
  under an exclusive ``flock``;
* ``scenario.json``: the scenario in force, replaced atomically before the
  generation is bumped, and re-read by a worker that sees a new generation;
* ``log-<pid>.jsonl``: each worker's finished records, one JSON line each,
  tagged with their generation.

A record appears in the admin log once its answer (or stream) is finished. The
admin log keeps the newest `limit` records of all workers, within `max_bytes`
(the lines' bytes); a worker whose own file grows past `max_bytes` rewrites it
with its newest lines up to half that, so the files stay bounded too.
"""

from __future__ import annotations

import fcntl
import json
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from worksample.mockllm._scenario import Scenario
from worksample.mockllm._server.log import (
    DEFAULT_LOG_BYTES,
    DEFAULT_LOG_LIMIT,
    Counters,
    LogEntry,
    RequestRecord,
    finish_record,
    new_record,
    tally,
)

__all__ = ["SharedLog", "init_shared_dir", "read_scenario", "write_scenario"]

_ENDPOINTS = (
    "chat.completions",
    "messages",
    "messages.count_tokens",
    "embeddings",
    "models",
    "unknown",
)
_SLOTS = struct.Struct("<" + "q" * (2 + len(_ENDPOINTS)))
_GENERATION, _SEQ = 0, 1
COUNTERS = "counters.bin"
SCENARIO = "scenario.json"

T = TypeVar("T")


def init_shared_dir(path: Path, scenario: Scenario) -> None:
    """Prepare an empty directory for the workers: generation 1, `scenario`."""
    write_scenario(path, scenario)
    values = [0] * len(_SLOTS.unpack(bytes(_SLOTS.size)))
    values[_GENERATION] = 1
    (path / COUNTERS).write_bytes(_SLOTS.pack(*values))


def write_scenario(path: Path, scenario: Scenario) -> None:
    """Replace the scenario file atomically."""
    partial = path / f".{SCENARIO}.{os.getpid()}"
    partial.write_text(scenario.model_dump_json(), encoding="utf-8")
    os.replace(partial, path / SCENARIO)


def read_scenario(path: Path) -> Scenario:
    """The scenario in force."""
    return Scenario.model_validate_json((path / SCENARIO).read_bytes())


def _newest_within(sized: list[tuple[T, int]], budget: int) -> list[T]:
    """The newest items (the end of `sized`, as (item, bytes)) whose bytes fit in
    `budget`, oldest first; the newest one always, even alone too large."""
    kept: list[T] = []
    size = 0
    for item, length in reversed(sized):
        size += length
        if size > budget and kept:
            break
        kept.append(item)
    kept.reverse()
    return kept


class SharedLog:
    """A `LogBackend` whose numbering and records all workers share."""

    def __init__(
        self, path: Path, limit: int = DEFAULT_LOG_LIMIT, max_bytes: int = DEFAULT_LOG_BYTES
    ) -> None:
        self._path = path
        self._limit = limit
        self._max_bytes = max_bytes
        self._fd = os.open(path / COUNTERS, os.O_RDWR)
        self._own = path / f"log-{os.getpid()}.jsonl"
        self._log_fd = os.open(self._own, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._opened: dict[int, int] = {}

    @contextmanager
    def _locked(self) -> Iterator[list[int]]:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            slots = list(_SLOTS.unpack(os.pread(self._fd, _SLOTS.size, 0)))
            before = list(slots)
            yield slots
            if slots != before:
                os.pwrite(self._fd, _SLOTS.pack(*slots), 0)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    @property
    def generation(self) -> int:
        """The generation now in force (read from the shared file)."""
        value: int = _SLOTS.unpack(os.pread(self._fd, _SLOTS.size, 0))[_GENERATION]
        return value

    def clear(self) -> None:
        """New generation, numbering from 1, every worker's log emptied."""
        with self._locked() as slots:
            generation = slots[_GENERATION] + 1
            slots[:] = [0] * len(slots)
            slots[_GENERATION] = generation
            for log in self._path.glob("log-*.jsonl"):
                os.truncate(log, 0)

    def open(
        self,
        *,
        endpoint: str,
        method: str,
        path: str,
        headers: list[tuple[bytes, bytes]],
        auth_ok: bool,
    ) -> LogEntry:
        """Number a new request across all workers and start its record."""
        slot = 2 + _ENDPOINTS.index(endpoint if endpoint in _ENDPOINTS else "unknown")
        with self._locked() as slots:
            slots[_SEQ] += 1
            slots[slot] += 1
            seq, call, generation = slots[_SEQ], slots[slot], slots[_GENERATION]
        record = new_record(
            seq=seq,
            call=call,
            endpoint=endpoint,
            method=method,
            path=path,
            headers=headers,
            auth_ok=auth_ok,
        )
        self._opened[id(record)] = generation
        return record

    def close(self, record: LogEntry, *, started: float, completed: bool = True) -> None:
        """Finish `record` and append it to this worker's file."""
        finish_record(record, started=started, completed=completed)
        generation = self._opened.pop(id(record), 0)
        line = f'{{"g":{generation},"r":{record.to_record().model_dump_json()}}}\n'.encode()
        with self._locked() as slots:
            if slots[_GENERATION] == generation:
                os.write(self._log_fd, line)
                if os.fstat(self._log_fd).st_size > self._max_bytes:
                    self._compact()

    def _compact(self) -> None:
        """Keep the newest lines of this worker's file, up to half of `max_bytes` (under
        the lock, so no reader sees the file half written)."""
        lines = self._own.read_bytes().splitlines(keepends=True)
        kept = _newest_within([(line, len(line)) for line in lines], self._max_bytes // 2)
        os.truncate(self._log_fd, 0)
        os.write(self._log_fd, b"".join(kept))

    def _current(self) -> tuple[list[tuple[RequestRecord, int]], list[int]]:
        """Every record of this generation with the bytes of its line, by `seq`."""
        records = []
        with self._locked() as slots:
            for log in sorted(self._path.glob("log-*.jsonl")):
                for line in log.read_bytes().splitlines():
                    entry = json.loads(line)
                    if entry["g"] == slots[_GENERATION]:
                        records.append((RequestRecord.model_validate(entry["r"]), len(line)))
            numbers = list(slots)
        records.sort(key=lambda pair: pair[0].seq)
        return records, numbers

    def records(self, *, since: int = 0, endpoint: str | None = None) -> list[RequestRecord]:
        """Finished records of all workers with ``seq > since``, oldest first."""
        records, _ = self._current()
        kept = _newest_within(records[-self._limit :], self._max_bytes)
        return [r for r in kept if r.seq > since and (endpoint is None or r.endpoint == endpoint)]

    def counters(self) -> Counters:
        """Totals of all workers since the last clear."""
        pairs, slots = self._current()
        records = [record for record, _ in pairs]
        calls = {name: slots[2 + i] for i, name in enumerate(_ENDPOINTS) if slots[2 + i]}
        return tally(records, slots[_SEQ], calls)
