"""Many requests at once: every one is answered, none waits on a starved pool.

Before the in-flight limit, fifty simultaneous page loads on one process took
every database connection and every worker thread between them: requests
holding a connection waited for a thread, threads waited for a connection, and
nothing moved until the pool's 30 s timeout turned them into errors. Speed is
measured in benchmarks/web.py; these tests only ask that everyone is answered.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from factories import (
    MINI_ADD,
    make_invitation,
    make_org,
    make_position,
    make_run,
    make_submission,
    make_submission_zip,
    make_user,
)
from fastapi import FastAPI
from infra import free_port, live_server, wait_for_serve, wait_until
from pages import enter_as_candidate, open_link, sign_in, upload
from sqlmodel import Session
from starlette.types import Receive, Scope, Send
from worksample.db import REQUESTS_IN_FLIGHT, GradingRun, RunStatus, make_engine, migrate
from worksample.web.middleware import InFlightLimit

WORKSAMPLE = Path(sys.executable).with_name("worksample")

CLIENTS = 60  # more than the pool's connections and the thread pool's threads


def test_in_flight_limit_admits_at_most_its_limit_and_lets_static_files_by() -> None:
    inside = 0
    most: dict[str, int] = {"page": 0, "static": 0}

    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal inside
        kind = "static" if scope["path"].startswith("/static/") else "page"
        inside += 1
        most[kind] = max(most[kind], inside)
        await asyncio.sleep(0.02)
        inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = InFlightLimit(slow_app, limit=3)

    async def burst(path: str) -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answers = await asyncio.gather(*(client.get(path) for _ in range(20)))
        return [a.status_code for a in answers]

    assert asyncio.run(burst("/runs/1")) == [200] * 20
    assert most["page"] == 3
    assert asyncio.run(burst("/static/style.css")) == [200] * 20
    assert most["static"] > 3


@pytest.fixture
def served(make_app: Callable[..., FastAPI]) -> Iterator[str]:
    """The real app under uvicorn (httpx's ASGI transport runs no thread pool,
    so it could not starve)."""
    with live_server(make_app()) as base:
        yield base


def test_many_simultaneous_page_loads_are_all_answered(served: str, db_session: Session) -> None:
    assert CLIENTS > REQUESTS_IN_FLIGHT
    org = make_org(db_session)
    staff = make_user(db_session, org)
    invitation, _ = make_invitation(db_session, make_position(db_session, org))
    run = make_run(db_session, make_submission(db_session, invitation), status=RunStatus.queued)
    staff_cookies, candidate_cookies = httpx.Cookies(), httpx.Cookies()
    with httpx.Client(base_url=served) as c:
        sign_in(c, db_session, staff)
        staff_cookies.update(c.cookies)
        c.cookies.clear()
        enter_as_candidate(c, db_session, invitation)
        candidate_cookies.update(c.cookies)
    pages = [
        ("/positions", staff_cookies, {}),  # plain `def` route: a thread hop
        (f"/runs/{run.id}", staff_cookies, {}),
        (f"/c/runs/{run.id}", candidate_cookies, {"HX-Request": "true"}),
        ("/c", candidate_cookies, {}),
    ]

    async def load(path: str, cookies: httpx.Cookies, headers: dict[str, str]) -> list[int]:
        limits = httpx.Limits(max_connections=CLIENTS)
        async with httpx.AsyncClient(
            base_url=served, cookies=cookies, headers=headers, limits=limits, timeout=120
        ) as client:
            answers = await asyncio.gather(*(client.get(path) for _ in range(CLIENTS)))
        return [a.status_code for a in answers]

    for path, cookies, headers in pages:
        assert asyncio.run(load(path, cookies, headers)) == [200] * CLIENTS, path


def test_serve_with_two_web_processes_grades_in_the_serving_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    migrate(url)
    engine = make_engine(url)
    with Session(engine) as session:
        _, link = make_invitation(session, make_position(session, make_org(session)))
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "WORKSAMPLE_DATA_DIR": str(tmp_path / "var"),
        "WORKSAMPLE_DATABASE_URL": url,
        "WORKSAMPLE_EXERCISES_DIR": str(MINI_ADD.parent),
        "WORKSAMPLE_GRADING_BACKEND": "local",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(WORKSAMPLE), "serve", "--port", str(port), "--no-demo", "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"

        wait_for_serve(proc, base, log=log)
        web_processes = [
            pid
            for pid in _children(proc.pid)
            if "multiprocessing.spawn" in Path(f"/proc/{pid}/cmdline").read_text()
        ]
        assert len(web_processes) == 2, log.read_text()
        with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
            csrf = open_link(client, link)
            answer = upload(client, csrf, make_submission_zip(), kind="final", confirm=True)
            assert answer.status_code == 303, answer.text
            run_id = int(answer.headers["location"].rsplit("/", 1)[1])

        def graded() -> GradingRun | None:
            with Session(engine) as session:
                run = session.get(GradingRun, run_id)
            return run if run is not None and run.status == RunStatus.graded else None

        wait_until(lambda: graded() is not None, timeout=120, what=f"run {run_id} graded")
        run = graded()
        assert run is not None and run.score == 100.0
        # One consumer, in the serving process: none in the web processes.
        assert run.worker is not None and f":{proc.pid}:" in run.worker, run.worker
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) in (0, -signal.SIGTERM), log.read_text()
        assert not any(Path(f"/proc/{pid}").exists() for pid in web_processes)
    finally:
        engine.dispose()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found
