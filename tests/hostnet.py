"""A listener on this host, for the tests that prove a sandbox cannot reach it."""

from __future__ import annotations

import socket
import threading


class HostListener:
    """A TCP listener on every address of this host, to prove a sandbox cannot
    reach it: `accepted()` closes it and lists the connections it took."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("0.0.0.0", 0))
        self._socket.settimeout(10)
        self.port: int = self._socket.getsockname()[1]
        self._accepted: list[object] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        try:
            self._accepted.append(self._socket.accept())
        except OSError:
            pass  # closed, or timed out: nobody came

    def accepted(self) -> list[object]:
        self._socket.close()
        self._thread.join()
        return self._accepted
