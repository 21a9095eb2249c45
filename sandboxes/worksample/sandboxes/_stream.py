"""The trusted end of the harness protocol over a Docker attach socket.

Docker multiplexes a non-TTY container's stdout and stderr on one socket:
each chunk has an 8-byte header (stream id, three zero bytes, big-endian
length). The harness writes protocol frames (``WSH1 <len>\\n<json>``) on stdout;
its stderr is kept, capped, for diagnostics. Every read has a deadline.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import time
from typing import Any

MAGIC = b"WSH1 "
MAX_FRAME = 256 * 1024 * 1024
STDERR_KEEP = 64 * 1024


class StreamClosed(Exception):
    """The harness closed its end: the container stopped or was killed."""


class StreamTimeout(Exception):
    """No complete frame arrived before the deadline."""


class ProtocolError(Exception):
    """The harness sent something that is not a frame."""


class HarnessStream:
    def __init__(self, sock: socket.socket, *, multiplexed: bool) -> None:
        self._sock = sock
        self._multiplexed = multiplexed
        self._raw = bytearray()  # undemultiplexed bytes
        self._out = bytearray()  # stdout payload
        self.stderr_tail = bytearray()

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, separators=(",", ":")).encode()
        self._sock.sendall(MAGIC + str(len(body)).encode() + b"\n" + body)

    def recv(self, deadline: float) -> dict[str, Any]:
        while True:
            frame = self._take_frame()
            if frame is not None:
                return frame
            self._fill(deadline)

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass

    # ------------------------------------------------------------------ internals
    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StreamTimeout
        ready, _, _ = select.select([self._sock], [], [], remaining)
        if not ready:
            raise StreamTimeout
        try:
            chunk = self._sock.recv(1 << 20)
        except (ConnectionResetError, OSError) as exc:
            raise StreamClosed(str(exc)) from exc
        if not chunk:
            raise StreamClosed("end of stream")
        if self._multiplexed:
            self._raw += chunk
            self._demux()
        else:
            self._out += chunk

    def _demux(self) -> None:
        while len(self._raw) >= 8:
            kind = self._raw[0]
            (length,) = struct.unpack(">I", self._raw[4:8])
            if len(self._raw) < 8 + length:
                return
            payload = bytes(self._raw[8 : 8 + length])
            del self._raw[: 8 + length]
            if kind == 1:
                self._out += payload
            elif kind == 2:
                self.stderr_tail += payload
                if len(self.stderr_tail) > STDERR_KEEP:
                    del self.stderr_tail[:-STDERR_KEEP]

    def _take_frame(self) -> dict[str, Any] | None:
        newline = self._out.find(b"\n", 0, 64)
        if newline < 0:
            if len(self._out) >= 64:
                raise ProtocolError(f"bad frame header {bytes(self._out[:40])!r}")
            return None
        header = bytes(self._out[:newline])
        if not header.startswith(MAGIC):
            raise ProtocolError(f"bad frame header {header[:40]!r}")
        try:
            length = int(header[len(MAGIC) :])
        except ValueError as exc:
            raise ProtocolError(f"bad frame length {header[:40]!r}") from exc
        if not 0 <= length <= MAX_FRAME:
            raise ProtocolError(f"frame length {length} out of range")
        if len(self._out) < newline + 1 + length:
            return None
        body = bytes(self._out[newline + 1 : newline + 1 + length])
        del self._out[: newline + 1 + length]
        try:
            message = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise ProtocolError(f"frame is not JSON: {exc}") from exc
        if not isinstance(message, dict):
            raise ProtocolError("frame is not a JSON object")
        return message
