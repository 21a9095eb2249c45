"""The test mock server: where it listens, its keys, SDK clients for it, and
`serving`, which runs one. A module of its own (not conftest) so that tests import
it by a name no other folder's conftest shares."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
import uvicorn
from worksample.mockllm import MockLLMAdmin, MockSettings, Scenario, create_app

API_KEY = "sk-candidate-test-key"
ADMIN_TOKEN = "admin-token-for-tests"


@dataclass
class MockServer:
    """Where the test server listens, how to administer it, and SDK clients for it."""

    url: str
    admin: MockLLMAdmin
    api_key: str = API_KEY
    admin_token: str = ADMIN_TOKEN

    def load(self, scenario: dict[str, Any] | Scenario) -> None:
        self.admin.load_scenario(scenario)

    def openai(self, **options: Any) -> openai.OpenAI:
        options.setdefault("max_retries", 0)
        options.setdefault("_strict_response_validation", True)
        return openai.OpenAI(base_url=self.url + "/v1", api_key=API_KEY, **options)

    def async_openai(self, **options: Any) -> openai.AsyncOpenAI:
        options.setdefault("max_retries", 0)
        options.setdefault("_strict_response_validation", True)
        return openai.AsyncOpenAI(base_url=self.url + "/v1", api_key=API_KEY, **options)

    def anthropic(self, **options: Any) -> anthropic.Anthropic:
        options.setdefault("max_retries", 0)
        options.setdefault("_strict_response_validation", True)
        return anthropic.Anthropic(base_url=self.url, api_key=API_KEY, **options)

    def async_anthropic(self, **options: Any) -> anthropic.AsyncAnthropic:
        options.setdefault("max_retries", 0)
        options.setdefault("_strict_response_validation", True)
        return anthropic.AsyncAnthropic(base_url=self.url, api_key=API_KEY, **options)

    def http(self, **headers: str) -> httpx.Client:
        """A plain client sending the candidate's key both ways providers accept it."""
        base = {"authorization": f"Bearer {API_KEY}", "x-api-key": API_KEY}
        return httpx.Client(base_url=self.url, headers={**base, **headers}, timeout=10)


@contextmanager
def serving(settings: MockSettings) -> Iterator[str]:
    """Run `create_app(settings)` under uvicorn on a free loopback port; yield its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), log_level="critical", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "mock server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
