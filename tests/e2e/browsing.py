"""What the browser tests share: a screenshot, a staff log-in, a zip of files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

# The embedded worker grades the demo's seeded uploads first, one at a time: on a
# busy machine a new upload waits behind them.
GRADED_WITHIN_MS = 300_000


def shot(page: Page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def log_in(page: Page, server: Any, email: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Positions")).to_be_visible()


def zipped(files: dict[str, str], path: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    path.write_bytes(buf.getvalue())
    return path
