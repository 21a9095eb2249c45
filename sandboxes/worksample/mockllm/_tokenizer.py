"""The mock's fixed tokenizer: every token count the mock reports comes from here.

A token is one of, matched left to right:

* up to 6 consecutive letters (a longer run of letters is split in chunks of 6),
* up to 3 consecutive digits (a longer number is split in chunks of 3),
* any other single non-space character (punctuation, symbols, ``_``).

Whitespace is free. So ``"Tokenization, 2024!"`` is ``Tokeni|zation|,|202|4|!``:
6 tokens. This is close to real BPE counts for English (about 4 characters a token)
and, unlike them, documented and stable, so an exercise can assert exact numbers.

Chat prompts add a fixed overhead, as OpenAI's cookbook describes for its models:
4 tokens per message plus 3 priming the reply (see `count_message_tokens`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

__all__ = [
    "MESSAGE_OVERHEAD",
    "REPLY_PRIMING",
    "count_message_tokens",
    "count_tokens",
    "split_tokens",
    "truncate_tokens",
]

_TOKEN = re.compile(r"[^\W\d_]{1,6}|\d{1,3}|[^\w\s]|_")
# The same tokens for ASCII-only text, which the regex engine matches much faster.
_ASCII_TOKEN = re.compile(r"[A-Za-z]{1,6}|[0-9]{1,3}|[^A-Za-z0-9_\s]|_")

MESSAGE_OVERHEAD = 4
"""Tokens added for each message of a chat prompt (role and separators)."""

REPLY_PRIMING = 3
"""Tokens added once per chat prompt for the start of the reply."""


def _count(text: str) -> int:
    return (_ASCII_TOKEN if text.isascii() else _TOKEN).subn("", text)[1]


@lru_cache(maxsize=16_384)
def _count_cached(line: str) -> int:
    return _count(line)


def _count_line(line: str) -> int:
    # Very long lines are counted afresh: the memo's size stays bounded.
    return _count_cached(line) if len(line) <= 16_384 else _count(line)


def count_tokens(text: str) -> int:
    """Number of tokens in `text`."""
    # Tokens never span a line break, so counting line by line is exact; prompts
    # repeat the same passages from request to request, and lines are memoised.
    if len(text) < 256:
        return _count(text)
    return sum(map(_count_line, text.split("\n")))


def split_tokens(text: str) -> list[str]:
    """The tokens of `text`, in order (whitespace dropped)."""
    return _TOKEN.findall(text)


def truncate_tokens(text: str, limit: int) -> str:
    """The longest prefix of `text` holding at most `limit` tokens.

    Whitespace right after the last kept token is dropped, so a reply cut by
    ``max_tokens`` never ends in a space.
    """
    if limit <= 0:
        return ""
    end = 0
    for count, match in enumerate(_TOKEN.finditer(text), start=1):
        end = match.end()
        if count == limit:
            break
    return text[:end]


def count_message_tokens(texts: Iterable[str]) -> int:
    """Prompt tokens of a chat request whose messages (and tool schemas) are `texts`.

    Each text is one message's content (tool definitions count as one message
    each, rendered as compact JSON by the caller).
    """
    total = REPLY_PRIMING
    for text in texts:
        total += MESSAGE_OVERHEAD + count_tokens(text)
    return total
