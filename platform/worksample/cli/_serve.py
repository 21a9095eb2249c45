"""`worksample serve` and `worksample worker`."""

from __future__ import annotations

import logging
import os
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from sqlmodel import Session
from worksample.cli._common import load_settings

console = Console(emoji=False, soft_wrap=True)
# Forwarded headers are the app's business (Settings.trusted_proxies), not
# uvicorn's, which would believe them from any loopback client; and no
# `Server: uvicorn` to tell a scanner what to try.
UVICORN: dict[str, Any] = {"log_level": "warning", "proxy_headers": False, "server_header": False}


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data folder (default ./var or WORKSAMPLE_DATA_DIR).")
    ] = None,
    demo: Annotated[bool, typer.Option(help="Seed the demo organisation on first start.")] = True,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=32,
            help="Web server processes (one per core serves most). The embedded grading "
            "worker runs once, in this process.",
        ),
    ] = 1,
) -> None:
    """Migrate, seed the demo, start the web app with an embedded grading worker."""
    from worksample.web.app import create_app
    from worksample.web.services.demo import ADMIN_EMAIL, REVIEWER_EMAIL, seed_demo

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    updates: dict[str, object] = {}
    if data_dir is not None:
        updates["data_dir"] = data_dir
    if "base_url" not in load_settings().model_fields_set:
        updates["base_url"] = f"http://{host}:{port}"
    settings = load_settings(**updates)
    app = create_app(settings)
    if demo:
        with Session(app.state.engine) as session:
            seeded = seed_demo(session, settings=settings, enqueue=app.state.queue.enqueue)
        if seeded.admin_password:
            console.print("[bold]Demo organisation created.[/bold] Sign in as:")
            console.print(
                f"  admin     {ADMIN_EMAIL}  password {seeded.admin_password}", markup=False
            )
            console.print(f"  reviewer  {REVIEWER_EMAIL}  (same password)", markup=False)
            console.print("  This password is shown once. Candidate links are in the outbox.")
            for link in seeded.candidate_links:
                console.print(f"  candidate link: {link}", markup=False)
            console.print(
                f"  {seeded.candidates} demo candidates at every stage; "
                f"{seeded.finals} final submissions grading in the background."
            )
    console.print(f"[bold green]worksample is running at {settings.base_url}[/bold green]")
    if workers == 1:
        uvicorn.run(app, host=host, port=port, **UVICORN)
        return
    # Each web process builds its app from the environment; they must agree
    # with this one, and none of them consumes the queue: this one does.
    os.environ["WORKSAMPLE_DATA_DIR"] = str(settings.data_dir.resolve())
    os.environ["WORKSAMPLE_BASE_URL"] = settings.base_url
    grading = app.state.queue.embedded_consumer() if settings.embedded_worker else nullcontext()
    try:
        with grading:
            uvicorn.run(
                "worksample.web.app:create_web_worker_app",
                factory=True,
                workers=workers,
                host=host,
                port=port,
                **UVICORN,
            )
    finally:
        app.state.engine.dispose()


def worker(
    workers: Annotated[int, typer.Option(help="Gradings at once in this process.")] = 1,
) -> None:
    """A grading worker for a scale-out set-up (WORKSAMPLE_REDIS_URL and DATABASE_URL)."""
    from worksample.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    if not settings.redis_url:
        console.print(
            "[yellow]no WORKSAMPLE_REDIS_URL: consuming the embedded SQLite queue "
            f"in {settings.data_dir}[/yellow]"
        )
    run_worker(settings, workers=workers)
