"""``worksample mock-llm`` and ``python -m worksample.mockllm``: the one command line.

Only this module (and ``__main__``) imports typer; the server needs none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from worksample.mockllm._server.serve import serve as run_server

__all__ = ["app"]

app = typer.Typer(
    name="mock-llm",
    help="Deterministic OpenAI- and Anthropic-compatible mock LLM for the AI track.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _group() -> None:
    # A callback keeps `serve` a sub-command when the app runs alone
    # (``python -m``); typer would otherwise make its one command the app.
    pass


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8600,
    api_key: Annotated[
        str | None,
        typer.Option(
            help="Key candidate code must send.",
            envvar="WORKSAMPLE_MOCKLLM_API_KEY",
            show_default="sk-mock-candidate",
        ),
    ] = None,
    admin_token: Annotated[
        str | None,
        typer.Option(
            help="Token for /_admin (random and printed if unset).",
            envvar="WORKSAMPLE_MOCKLLM_ADMIN_TOKEN",
        ),
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(
            help="Scenario file (.json or .toml) to start with.", exists=True, dir_okay=False
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="uvicorn worker processes (they share one log).")
    ] = 1,
) -> None:
    """Serve the mock LLM API (the plain extractive model when no scenario is given)."""
    run_server(
        host=host,
        port=port,
        api_key=api_key,
        admin_token=admin_token,
        scenario=scenario,
        workers=workers,
    )
