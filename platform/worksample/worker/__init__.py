"""The grading worker: the queue and the life of a grading run.

`worksample.worker.queue` is what the web app may import (to build the queue
and enqueue); the rest runs only in a worker. Nothing here imports the web app.
"""

from worksample.worker._main import run_worker
from worksample.worker._runs import Outcome, backoff_s, process_run, recover

__all__ = ["Outcome", "backoff_s", "process_run", "recover", "run_worker"]
