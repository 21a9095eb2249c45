"""A real mock server on a free loopback port, shared by the tests of this folder.

Each test starts from the default scenario with an empty log (the `mock`
fixture); SDK clients run in strict response validation mode.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
import pytest
import uvicorn
from worksample.mockllm import MockLLMAdmin, MockSettings, Scenario, create_app

API_KEY = "sk-candidate-test-key"
ADMIN_TOKEN = "admin-token-for-tests"

CORPUS = """\
<doc id="eiffel">The Eiffel Tower is in Paris. It was completed in 1889 for the World's Fair.</doc>
<doc id="moon">The Moon orbits the Earth about every 27 days. Its surface is covered in dust.</doc>
<doc id="danube">The Danube flows through ten countries. It ends in the Black Sea.</doc>
"""


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


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    with serving(MockSettings(api_key=API_KEY, admin_token=ADMIN_TOKEN)) as url:
        admin = MockLLMAdmin(url, ADMIN_TOKEN)
        yield MockServer(url=url, admin=admin)
        admin.close()


@pytest.fixture
def fresh_server() -> Callable[[], AbstractContextManager[MockServer]]:
    """Start another server, with the same credentials, as a context manager."""

    @contextmanager
    def start() -> Iterator[MockServer]:
        settings = MockSettings(api_key=API_KEY, admin_token=ADMIN_TOKEN)
        with serving(settings) as url, MockLLMAdmin(url, ADMIN_TOKEN) as admin:
            yield MockServer(url=url, admin=admin)

    return start


@pytest.fixture
def mock(mock_server: MockServer) -> MockServer:
    mock_server.load(Scenario())
    return mock_server


@pytest.fixture
def oai(mock: MockServer) -> Iterator[openai.OpenAI]:
    with mock.openai() as client:
        yield client


@pytest.fixture
def claude(mock: MockServer) -> Iterator[anthropic.Anthropic]:
    with mock.anthropic() as client:
        yield client


@pytest.fixture
def corpus() -> str:
    """Three delimited passages with ids."""
    return CORPUS
