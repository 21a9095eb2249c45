"""Test infrastructure: loopback ports, bounded waits, throwaway databases from templates."""

from __future__ import annotations

import itertools
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from factories import EXERCISES
from fastapi import FastAPI
from worksample.cli._serve import UVICORN
from worksample.settings import Settings

DB_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
MISSING = "{what} is missing: run scripts/test, which installs PostgreSQL 15 and redis-server."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)
        time.sleep(0.05)


def wait_for_serve(proc: subprocess.Popen[bytes], base: str, *, log: Path) -> None:
    """Until `worksample serve` answers /healthz; fails with its log if it exits first."""

    def answered_or_exited() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=1).is_success
        except httpx.HTTPError:
            return proc.poll() is not None

    wait_until(answered_or_exited, timeout=60, what=f"worksample serve at {base} to answer")
    assert proc.poll() is None, log.read_text(errors="replace")


def need(path: str | Path | None, what: str) -> str:
    if path is None or not Path(path).exists():
        pytest.fail(MISSING.format(what=what), pytrace=False)
    return str(path)


@dataclass(frozen=True)
class PostgresServer:
    port: int

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql.encode())

    def ready(self) -> bool:
        try:
            self.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True


@dataclass(frozen=True)
class Database:
    kind: str  # "sqlite" or "postgres"
    url: str
    name: str  # the file (SQLite) or the database name (PostgreSQL)


class Databases:
    """Fresh databases from a template: the migrated schema, or a seeded copy of it."""

    def __init__(self, request: pytest.FixtureRequest, root: Path) -> None:
        self._request = request
        self._root = root
        self._serial = itertools.count(1)

    def template(self, kind: str) -> Database:
        template: Database = self._request.getfixturevalue(f"{kind}_template")
        return template

    def create(self, kind: str, *, template: Database | None = None) -> Database:
        source = template or self.template(kind)
        name = f"t{next(self._serial)}_{secrets.token_hex(4)}"
        if kind == "sqlite":
            path = self._root / f"{name}.db"
            shutil.copyfile(source.name, path)
            return Database("sqlite", f"sqlite:///{path}", str(path))
        server: PostgresServer = self._request.getfixturevalue("postgres_server")
        server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source.name}"')
        return Database("postgres", server.url(name), name)

    def drop(self, db: Database) -> None:
        if db.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(db.name + suffix).unlink(missing_ok=True)
        else:
            server: PostgresServer = self._request.getfixturevalue("postgres_server")
            server.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')


def make_settings(db: Database, data_dir: Path, **overrides: object) -> Settings:
    """Everything explicit, so a WORKSAMPLE_* variable in the environment changes nothing."""
    fields: dict[str, object] = {
        "data_dir": data_dir,
        "exercises_dir": EXERCISES,
        "database_url": db.url,
        "redis_url": None,
        "smtp_host": None,
        "cookie_secure": None,
        "base_url": "http://testserver",
        "grading_backend": "local",
        "embedded_worker": False,
        "max_upload_mb": 50,
        "grading_max_attempts": 3,
        "grading_lease_s": 120,
    }
    return Settings(**(fields | overrides))  # type: ignore[arg-type]


class Inbox:
    """What an SMTP server on a loopback port received (see the `smtp` fixture)."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.received = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        self.received.set()
        return "250 OK"


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """The app behind a real uvicorn on a loopback port, for truly concurrent requests."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, **UVICORN)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=30, what=f"uvicorn on port {port}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
