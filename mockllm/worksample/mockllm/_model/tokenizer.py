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


def _ascii_class(char: str) -> str:
    if char.isalpha():
        return "a"
    if char.isdigit():
        return "0"
    return " " if char.isspace() else "."


# ASCII text is counted without the regex engine (twice as fast): every character
# becomes its class (letter "a", digit "0", space, anything else "."), each full
# run of 6 letters or 3 digits one character, what is left of each run one
# character, and then every character but a space is one token.
_ASCII_CLASSES = str.maketrans({chr(code): _ascii_class(chr(code)) for code in range(128)})

MESSAGE_OVERHEAD = 4
"""Tokens added for each message of a chat prompt (role and separators)."""

REPLY_PRIMING = 3
"""Tokens added once per chat prompt for the start of the reply."""


def _count(text: str) -> int:
    if not text.isascii():
        return _TOKEN.subn("", text)[1]
    classes = text.translate(_ASCII_CLASSES).replace("aaaaaa", "L").replace("000", "D")
    # Runs of 1 to 5 letters and 1 or 2 digits are left: one character each.
    for run, one in (("aaaaa", "a"), ("aaaa", "a"), ("aaa", "a"), ("aa", "a"), ("00", "0")):
        classes = classes.replace(run, one)
    return len(classes) - classes.count(" ")


# Lines are memoised up to LINE_MEMO_CHARS characters (the memo stays under 16,384
# lines of 4 KiB); longer ones are counted afresh. The length checks are inline, and
# a text of short lines is summed by `map` over the memo itself: no Python call per line.
LINE_MEMO_CHARS = 4_096
_line_memo = lru_cache(maxsize=16_384)(_count)


def count_tokens(text: str) -> int:
    """Number of tokens in `text`."""
    # Tokens never span a line break, so counting line by line is exact; prompts
    # repeat the same passages (and system prompts, and answers) from request to
    # request, and lines are memoised.
    if "\n" not in text:
        return _line_memo(text) if len(text) <= LINE_MEMO_CHARS else _count(text)
    lines = text.split("\n")
    if len(text) <= LINE_MEMO_CHARS or max(map(len, lines)) <= LINE_MEMO_CHARS:
        return sum(map(_line_memo, lines))
    return sum([_line_memo(x) if len(x) <= LINE_MEMO_CHARS else _count(x) for x in lines])


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
