"""A real `worksample serve` in a subprocess, and Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
DEMO_PASSWORD = "e2e-demo-password"


@dataclass(frozen=True)
class Server:
    url: str
    data_dir: Path
    log: Path
    password: str = DEMO_PASSWORD
    root: Path = ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("serve")
    port = free_port()
    log = data / "serve.log"
    env = {
        **os.environ,
        "WORKSAMPLE_DATA_DIR": str(data),
        "WORKSAMPLE_EXERCISES_DIR": str(ROOT / "tests" / "graders" / "exercises"),
        "WORKSAMPLE_DEMO_ADMIN_PASSWORD": DEMO_PASSWORD,
    }
    worksample = str(Path(sys.executable).with_name("worksample"))
    with log.open("w") as out:
        proc = subprocess.Popen(
            [worksample, "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"worksample serve did not start:\n{log.read_text()}")
    yield Server(url, data, log)
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


# Module scope: Playwright's sync API keeps an event loop running while it is
# open, and later tests that call asyncio.run() (the mock LLM's async SDK
# tests) must not find it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run scripts/test (it installs it)")
    # Playwright starts Chromium with a fresh temporary profile of its own.
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS
