"""The worker stands apart from the web app: a worker host never loads it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LOADED_WEB_MODULES = (
    "import sys, worksample.db, worksample.worker, worksample.worker.queue; "
    "print(sorted(m for m in sys.modules if m.startswith('worksample.web')))"
)


def test_the_worker_and_the_tables_import_nothing_of_the_web_app(tmp_path: Path) -> None:
    # A fresh interpreter: this test process has long imported the web app.
    out = subprocess.run(
        [sys.executable, "-c", LOADED_WEB_MODULES],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"
