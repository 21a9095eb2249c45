"""Server-sent events: the wire encoding of streamed replies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json

__all__ = ["DONE", "SSEEvent", "dump_json", "encode_event", "encode_json"]

DONE = "[DONE]"
"""OpenAI's last data line."""
_DONE = DONE.encode()


# What json.dumps(value, separators=(",", ":"), ensure_ascii=False) makes, without
# building an encoder for every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dump_json(value: Any) -> str:
    """Compact JSON, as both providers send it; the same value gives the same bytes."""
    return _ENCODER.encode(value)


def encode_json(value: Any) -> bytes:
    """The body of a reply or event: `dump_json` as UTF-8, made by pydantic-core's
    serializer (three times faster on a chat completion). The bytes are the same but for a
    float under 1e-4, written ``0.00001`` where `dump_json` writes ``1e-05``."""
    return to_json(value)


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
    data = _DONE if event.data == DONE else encode_json(event.data)
    if event.event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.event.encode() + b"\ndata: " + data + b"\n\n"
