"""Deployment: ``python -m worksample.mockllm serve`` as a real process, and the typer app."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openai
import pytest
from typer.testing import CliRunner
from worksample.mockllm import MockLLMAdmin, app

SERVER_ONLY = """
import sys
import worksample.mockllm, worksample.mockllm._server.app, worksample.mockllm._server.serve
print(json.dumps(sorted(m for m in ("openai", "anthropic", "httpx", "typer") if m in sys.modules)))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_server_needs_only_fastapi_uvicorn_and_pydantic() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import json\n" + SERVER_ONLY],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout) == []


@contextmanager
def _serving(*options: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    command = [sys.executable, "-m", "worksample.mockllm", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--api-key", "sk-file-key", "--admin-token",
               "file-admin-token", *options]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/healthz").raise_for_status()
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def test_python_m_serve_with_a_scenario_file(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        'name = "from file"\n[[rules]]\nname = "r"\nreply = { text = "Scripted." }\n'
    )
    with _serving("--scenario", str(scenario)) as (url, process):
        client = openai.OpenAI(
            base_url=url + "/v1", api_key="sk-file-key", _strict_response_validation=True
        )
        with client:
            done = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
        assert done.choices[0].message.content == "Scripted."
        with MockLLMAdmin(url, "file-admin-token") as admin:
            assert admin.scenario().name == "from file"
            assert admin.counters().requests == 1
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert f"serving scenario 'from file' on {url} (1 worker)" in stderr


@pytest.mark.slow
def test_workers_share_scenario_numbering_and_log() -> None:
    prompt = [{"role": "user", "content": "hello"}]
    with _serving("--workers", "2") as (url, _):
        admin = MockLLMAdmin(url, "file-admin-token")
        admin.load_scenario(
            {
                "name": "two workers",
                "failures": [
                    {
                        "kind": "error",
                        "endpoint": "chat.completions",
                        "calls": [5, 6],
                        "status": 500,
                    }
                ],
            }
        )
        statuses = []
        for _ in range(12):  # fresh connections, so both workers answer some
            response = httpx.post(
                url + "/v1/chat/completions",
                json={"model": "gpt-4o-mini", "messages": prompt},
                headers={"authorization": "Bearer sk-file-key"},
            )
            statuses.append(response.status_code)
        assert statuses == [200] * 4 + [500, 500] + [200] * 6
        records = admin.requests()
        assert [r.seq for r in records] == list(range(1, 13))
        assert [r.call for r in records] == list(range(1, 13))
        counters = admin.counters()
        assert (counters.requests, counters.by_status) == (12, {"200": 10, "500": 2})
        admin.load_scenario({"rules": [{"name": "r", "reply": {"text": "everywhere"}}]})
        with openai.OpenAI(base_url=url + "/v1", api_key="sk-file-key",
                           _strict_response_validation=True) as client:  # fmt: skip
            answers = {
                client.chat.completions.create(
                    model="gpt-4o-mini", messages=prompt,
                    extra_headers={"connection": "close"},
                ).choices[0].message.content
                for _ in range(8)
            }  # fmt: skip
        assert answers == {"everywhere"}
        assert len(admin.requests()) == 8
        admin.reset()
        assert admin.counters().requests == 0 and admin.requests() == []
        admin.close()


def test_typer_app_serve_options() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--host", "--port", "--api-key", "--admin-token", "--scenario", "--workers"):
        assert option in result.output
    missing = CliRunner().invoke(app, ["serve", "--scenario", "/nonexistent.toml"])
    assert missing.exit_code != 0
