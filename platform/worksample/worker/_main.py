"""`worksample worker`: one process of a scale-out set-up, consuming the queue."""

from __future__ import annotations

from worksample.db import make_engine, migrate
from worksample.settings import Settings
from worksample.worker.queue import make_queue


def run_worker(settings: Settings, *, workers: int = 1) -> None:
    """Bring the schema up to date, enqueue again the runs lost by dead workers,
    then grade from the queue until a signal stops the consumer."""
    migrate(settings.effective_database_url)
    queue = make_queue(settings, make_engine(settings.effective_database_url))
    queue.recover_now()
    queue.consumer(workers=workers).run()
