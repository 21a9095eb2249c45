"""``python -m worksample.mockllm serve ...``: the typer app of ``worksample mock-llm``."""

from __future__ import annotations

from worksample.mockllm._cli import app

__all__ = ["main"]


def main() -> None:
    app(prog_name="python -m worksample.mockllm")


if __name__ == "__main__":
    main()
