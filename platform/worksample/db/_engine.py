"""The database's engine and sessions, for the web app and the worker alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

# Connections per process, and requests the web app lets in at once (its
# InFlightLimit middleware). Each request holds one connection, so the limit
# must stay below the pool; the rest is for the grading worker and the queue's
# bookkeeping. One process runs Python on one core at a time: past a few
# requests in flight, more only lengthen each one's wait.
POOL_SIZE, POOL_OVERFLOW = 10, 20
REQUESTS_IN_FLIGHT = 8


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record):  # type: ignore[no-untyped-def]
            cur = conn.cursor()
            # WAL: readers never wait for the grading worker's writes.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session
