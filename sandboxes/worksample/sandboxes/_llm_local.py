"""The mock LLM in this process, on loopback: for the local (unsandboxed) backend."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn
from pydantic import SecretStr
from worksample.mockllm import MockSettings, create_app
from worksample.sandboxes._errors import SandboxError
from worksample.sandboxes._llm_service import LLMEndpoints


class LocalMockLLM:
    def __init__(self) -> None:
        self.endpoints: LLMEndpoints | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        api_key = "sk-ws-" + secrets.token_urlsafe(18)
        admin_token = secrets.token_urlsafe(24)
        app = create_app(
            MockSettings(api_key=SecretStr(api_key), admin_token=SecretStr(admin_token))
        )
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="mock-llm")
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise SandboxError("the local mock LLM did not start")
            time.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        self.endpoints = LLMEndpoints("", base, admin_token, api_key, candidate_base=base)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
