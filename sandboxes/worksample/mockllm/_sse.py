"""Server-sent events: the wire encoding of streamed replies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["DONE", "SSEEvent", "dump_json", "encode_event"]

DONE = "[DONE]"
"""OpenAI's last data line."""


# What json.dumps(value, separators=(",", ":"), ensure_ascii=False) makes, without
# building an encoder for every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dump_json(value: Any) -> str:
    """Compact JSON, as both providers send it; the same value gives the same bytes."""
    return _ENCODER.encode(value)


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One event: an optional name (Anthropic names every event) and its data."""

    event: str | None
    data: Any
    """A JSON value, or `DONE`."""

    def as_log(self) -> dict[str, Any]:
        """The form kept in the request log."""
        return {"event": self.event, "data": self.data}


def encode_event(event: SSEEvent) -> bytes:
    """``event: NAME`` (when named) and ``data: JSON`` lines, then a blank line."""
    data = event.data if event.data == DONE else dump_json(event.data)
    if event.event is None:
        return f"data: {data}\n\n".encode()
    return f"event: {event.event}\ndata: {data}\n\n".encode()
