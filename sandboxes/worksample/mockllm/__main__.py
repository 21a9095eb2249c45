"""``python -m worksample.mockllm serve ...``: works with only fastapi, uvicorn and pydantic."""

from __future__ import annotations

import argparse
from pathlib import Path

from worksample.mockllm._serve import serve

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Parse `argv` like ``worksample mock-llm`` does, without typer."""
    parser = argparse.ArgumentParser(prog="python -m worksample.mockllm")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("serve", help="Serve the mock LLM API.")
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument("--port", type=int, default=8600)
    command.add_argument("--api-key", default=None)
    command.add_argument("--admin-token", default=None)
    command.add_argument("--scenario", type=Path, default=None)
    command.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    serve(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        admin_token=args.admin_token,
        scenario=args.scenario,
        workers=args.workers,
    )


if __name__ == "__main__":
    main()
