"""Run the mock under uvicorn: what ``worksample mock-llm serve`` (and ``python -m``) calls."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from worksample.mockllm._scenario import Scenario, load_scenario
from worksample.mockllm._server.app import create_app
from worksample.mockllm._server.shared import init_shared_dir
from worksample.mockllm._settings import MockSettings

__all__ = ["ENV_SHARED_DIR", "serve", "shared_app"]

ENV_SHARED_DIR = "WORKSAMPLE_MOCKLLM_SHARED_DIR"
_SETTINGS_FILE = "settings.json"


def shared_app() -> FastAPI:
    """The app of one worker of ``serve --workers N`` (a uvicorn factory)."""
    shared = Path(os.environ[ENV_SHARED_DIR])
    values = json.loads((shared / _SETTINGS_FILE).read_text(encoding="utf-8"))
    return create_app(MockSettings(**values, shared_dir=shared))


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8600,
    api_key: str | None = None,
    admin_token: str | None = None,
    scenario: Path | None = None,
    workers: int = 1,
    log_level: str = "warning",
) -> None:
    """Serve until interrupted. Without an admin token (argument or
    ``WORKSAMPLE_MOCKLLM_ADMIN_TOKEN``) a random one is made and printed to stderr.

    With `workers` above 1, uvicorn runs that many processes, which share their
    scenario, call numbers and request log through a private temporary directory.
    """
    loaded = load_scenario(scenario) if scenario is not None else Scenario()
    settings = MockSettings.from_env(api_key=api_key, admin_token=admin_token, scenario=loaded)
    if settings.admin_token is None:
        token = secrets.token_urlsafe(24)
        settings = MockSettings.from_env(api_key=api_key, admin_token=token, scenario=loaded)
        print(f"mock LLM admin token: {token}", file=sys.stderr)
    print(
        f"mock LLM serving scenario {settings.scenario.name!r} on http://{host}:{port}"
        f" ({workers} worker{'s' if workers > 1 else ''})",
        file=sys.stderr,
    )
    if workers <= 1:
        app = create_app(settings)
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
        return
    shared = Path(tempfile.mkdtemp(prefix="mockllm-"))  # mode 0700: the secrets stay private
    try:
        init_shared_dir(shared, settings.scenario)
        assert settings.admin_token is not None
        values = {
            "api_key": settings.api_key.get_secret_value(),
            "admin_token": settings.admin_token.get_secret_value(),
            "log_limit": settings.log_limit,
            "log_max_bytes": settings.log_max_bytes,
        }
        (shared / _SETTINGS_FILE).write_text(json.dumps(values), encoding="utf-8")
        os.environ[ENV_SHARED_DIR] = str(shared)
        uvicorn.run(
            "worksample.mockllm._server.serve:shared_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
        )
    finally:
        shutil.rmtree(shared, ignore_errors=True)
