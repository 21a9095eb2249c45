"""Memos bounded in bytes as well as in entries.

The mock's memos are keyed by text a candidate sends: passages, lines, inputs
to embed. ``lru_cache(maxsize=n)`` bounds how many, not how large; a few
thousand multi-megabyte keys would fill the container. `memo_short` memoises
texts up to `max_chars` and computes longer ones afresh every time.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import lru_cache, wraps
from typing import Any, TypeVar, cast

__all__ = ["memo_short"]

F = TypeVar("F", bound=Callable[..., Any])


def memo_short(maxsize: int, max_chars: int) -> Callable[[F], F]:
    """Like ``lru_cache(maxsize)`` for a function of a text and further hashable
    positional arguments, for texts of at most `max_chars` characters."""

    def decorate(function: F) -> F:
        memo = lru_cache(maxsize=maxsize)(function)

        @wraps(function)
        def call(text: str, /, *args: Hashable) -> Any:
            if len(text) <= max_chars:
                return memo(text, *args)
            return function(text, *args)

        call.memo = memo  # type: ignore[attr-defined]
        return cast(F, call)

    return decorate
