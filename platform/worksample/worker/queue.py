"""Grading jobs on huey: SQLite in the embedded set-up, Redis for scale-out.

A job only carries a run id; the run's row says what to do. Enqueueing twice
is harmless (the claim is a conditional update), and a lost job is found again
by `recover`, run every minute and when a consumer starts.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from sqlalchemy import Engine
from sqlmodel import Session
from worksample.db import prune_auth
from worksample.settings import Settings
from worksample.worker._runs import process_run, recover

__all__ = ["EmbeddedConsumer", "GradingQueue", "make_queue"]

log = logging.getLogger("worksample.queue")


class EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """huey's consumer, minus its signal handlers.

    `Consumer.start` takes over SIGINT, SIGTERM and SIGHUP, as it expects to
    be the program; inside the web server that swallowed the server's Ctrl+C
    and SIGTERM (the process never stopped) and failed outright off the main
    thread. The server's lifespan stops this consumer instead."""

    def _set_signal_handlers(self) -> None:
        pass


@dataclass
class GradingQueue:
    huey: Huey
    engine: Engine
    settings: Settings

    def enqueue(self, run_id: int, delay_s: float = 0) -> None:
        if delay_s:
            self._grade.schedule((run_id,), delay=delay_s)
        else:
            self._grade(run_id)

    def recover_now(self) -> int:
        with Session(self.engine) as session:
            ids = recover(session, max_attempts=self.settings.grading_max_attempts)
        for run_id in ids:
            self.enqueue(run_id)
        return len(ids)

    @contextmanager
    def embedded_consumer(self) -> Iterator[None]:
        """One consumer thread in this (web-serving) process, with lost runs found
        again at start; stopped gracefully at the end."""
        consumer = self.consumer(workers=1, embedded=True)
        consumer.start()
        self.recover_now()
        try:
            yield
        finally:
            consumer.stop(graceful=True)

    def consumer(self, workers: int = 1, *, embedded: bool = False) -> Consumer:
        """A consumer of its own process (`worksample worker`), or one embedded
        in the web server, which owns the process's signals."""
        kind = EmbeddedConsumer if embedded else Consumer
        return kind(self.huey, workers=workers, worker_type="thread", periodic=True)

    def __post_init__(self) -> None:
        worker = f"{socket.gethostname()}:{os.getpid()}"

        @self.huey.task(name="grade_run")
        def grade_run(run_id: int) -> None:
            outcome = process_run(self.engine, settings=self.settings, run_id=run_id, worker=worker)
            log.info("run %s: %s", run_id, outcome.status)
            if outcome.status == "retry":
                self.enqueue(run_id, outcome.delay_s)

        @self.huey.periodic_task(crontab(minute="*"), name="recover_runs")
        def recover_runs() -> None:
            count = self.recover_now()
            if count:
                log.info("recovered %s run(s)", count)

        @self.huey.periodic_task(crontab(minute="0"), name="prune_auth")
        def prune_auth_rows() -> None:
            with Session(self.engine) as session:
                pruned = prune_auth(session)
            if pruned.login_attempts or pruned.web_sessions:
                log.info(
                    "pruned %s log-in attempt(s) and %s ended session(s)",
                    pruned.login_attempts,
                    pruned.web_sessions,
                )

        self._grade = grade_run


def make_queue(settings: Settings, engine: Engine) -> GradingQueue:
    huey: Huey
    if settings.redis_url:
        huey = RedisHuey("worksample", url=settings.redis_url)
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("worksample", filename=str(settings.data_dir / "queue.db"))
    return GradingQueue(huey=huey, engine=engine, settings=settings)
