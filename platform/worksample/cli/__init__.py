"""The `worksample` command line."""

from worksample.cli._app import app, main

__all__ = ["app", "main"]
