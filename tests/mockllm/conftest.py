"""A real mock server on a free loopback port, shared by the tests of this folder.

Each test starts from the default scenario with an empty log (the `mock`
fixture); SDK clients run in strict response validation mode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import anthropic
import openai
import pytest
from mockserve import ADMIN_TOKEN, API_KEY, MockServer, serving
from worksample.mockllm import MockLLMAdmin, MockSettings, Scenario

CORPUS = """\
<doc id="eiffel">The Eiffel Tower is in Paris. It was completed in 1889 for the World's Fair.</doc>
<doc id="moon">The Moon orbits the Earth about every 27 days. Its surface is covered in dust.</doc>
<doc id="danube">The Danube flows through ten countries. It ends in the Black Sea.</doc>
"""


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
