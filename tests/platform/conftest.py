"""Fixtures of the web platform's tests: the real app over a fresh real database.

Every database test runs twice, on SQLite and on PostgreSQL. PostgreSQL and
Redis are throwaway servers this session starts itself, from the Debian
binaries, on free loopback ports in temporary folders, and stops at the end;
Debian's own cluster and service are never touched. Each test gets a database
of its own: a copy of a migrated template file (SQLite) or `CREATE DATABASE ...
TEMPLATE` of a migrated template (PostgreSQL), dropped afterwards.

A missing binary fails the run with the command that installs it, never skips.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from factories import make_org, make_user
from fastapi import FastAPI
from fastapi.testclient import TestClient
from infra import (
    DB_KINDS,
    Database,
    Databases,
    Inbox,
    PostgresServer,
    free_port,
    make_settings,
    need,
    wait_until,
)
from sqlalchemy import Engine
from sqlmodel import Session
from worksample.db import Organisation, Role, User, make_engine, migrate
from worksample.settings import Settings
from worksample.web.app import create_app

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
INITDB_OPTIONS = ("--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: runs on a throwaway PostgreSQL server")
    config.addinivalue_line("markers", "redis: runs against a throwaway Redis server")


# --- throwaway servers ---------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    initdb = need(POSTGRES_BIN / "initdb", f"{POSTGRES_BIN}/initdb (PostgreSQL 15)")
    postgres = need(POSTGRES_BIN / "postgres", f"{POSTGRES_BIN}/postgres (PostgreSQL 15)")
    # Not under pytest's tmp_path: its folders are private to root, and the
    # server runs as the postgres user when the tests run as root.
    root = Path(tempfile.mkdtemp(prefix="ws-test-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        as_postgres = [need(shutil.which("runuser"), "runuser"), "-u", "postgres", "--"]
        owner = pwd.getpwnam("postgres")
        for path in (root, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    made = subprocess.run(
        [*as_postgres, initdb, "-D", str(data), "-U", "postgres", *INITDB_OPTIONS],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"initdb failed:\n{made.stdout}\n{made.stderr}", pytrace=False)
    port = free_port()
    log = root / "postgres.log"
    settings = {
        "listen_addresses": "127.0.0.1",
        "max_connections": "300",
        # A throwaway cluster: durability only costs time.
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
    with log.open("wb") as out:
        server_proc = subprocess.Popen(
            [
                *as_postgres,
                postgres,
                "-D",
                str(data),
                "-p",
                str(port),
                "-k",
                str(sockets),
                *options,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = PostgresServer(port)
    try:
        wait_until(
            lambda: server_proc.poll() is not None or server.ready(),
            timeout=60,
            what=f"PostgreSQL on port {port}",
        )
        if server_proc.poll() is not None:
            pytest.fail(f"PostgreSQL did not start:\n{log.read_text()}", pytrace=False)
        yield server
    finally:
        _stop_postgres(server_proc, data)
        shutil.rmtree(root, ignore_errors=True)


def _stop_postgres(proc: subprocess.Popen[bytes], data: Path) -> None:
    pid_file = data / "postmaster.pid"
    if proc.poll() is None and pid_file.exists():
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)  # fast shutdown
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    binary = need(shutil.which("redis-server"), "redis-server")
    root = Path(tempfile.mkdtemp(prefix="ws-test-redis-"))
    port = free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with (root / "redis.log").open("wb") as out:
        proc = subprocess.Popen(
            [binary, *args, "--dir", str(root)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)

    def ready() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return proc.poll() is not None

    try:
        wait_until(ready, timeout=30, what=f"Redis on port {port}")
        if proc.poll() is not None:
            pytest.fail(f"Redis did not start:\n{(root / 'redis.log').read_text()}")
        yield url
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


# --- databases -----------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Database:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrate(f"sqlite:///{path}")
    return Database("sqlite", f"sqlite:///{path}", str(path))


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> Database:
    postgres_server.execute("CREATE DATABASE ws_template")
    migrate(postgres_server.url("ws_template"))
    return Database("postgres", postgres_server.url("ws_template"), "ws_template")


@pytest.fixture(scope="session")
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Databases:
    return Databases(request, tmp_path_factory.mktemp("databases"))


@pytest.fixture(params=DB_KINDS)
def db(request: pytest.FixtureRequest, databases: Databases) -> Iterator[Database]:
    database = databases.create(request.param)
    yield database
    databases.drop(database)


# --- the app -------------------------------------------------------------------


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    return make_settings(db, tmp_path / "var")


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Callable[..., FastAPI]]:
    """The real app on this test's database; keyword arguments override settings."""
    made: list[FastAPI] = []

    def make(*, start_worker: bool = False, **overrides: object) -> FastAPI:
        app = create_app(settings.model_copy(update=overrides), start_worker=start_worker)
        made.append(app)
        return app

    yield make
    for app in made:
        app.state.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    return make_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def engine(db: Database) -> Iterator[Engine]:
    """The test's own engine on the test's database, for factories and checks."""
    engine = make_engine(db.url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@pytest.fixture
def org(db_session: Session) -> Organisation:
    return make_org(db_session)


@pytest.fixture
def admin(db_session: Session, org: Organisation) -> User:
    return make_user(db_session, org, role=Role.admin)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on a loopback port, and what it received."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()
