"""The documented tokenizer: exact, stable counts."""

from __future__ import annotations

import random

import pytest
from worksample.mockllm import count_tokens
from worksample.mockllm._model.tokenizer import (
    LINE_MEMO_CHARS,
    _line_memo,
    count_message_tokens,
    split_tokens,
    truncate_tokens,
)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Tokenization, 2024!", ["Tokeni", "zation", ",", "202", "4", "!"]),
        ("hello world", ["hello", "world"]),
        ("snake_case x1", ["snake", "_", "case", "x", "1"]),
        ("Zürich café", ["Zürich", "café"]),
        ("   ", []),
    ],
)
def test_split_tokens(text: str, tokens: list[str]) -> None:
    assert split_tokens(text) == tokens
    assert count_tokens(text) == len(tokens)


def test_long_texts_count_line_by_line_exactly() -> None:
    text = ("internationalization of 12345 things, line\n" * 40).strip()
    assert count_tokens(text) == len(split_tokens(text)) == 40 * 10


def test_long_lines_are_counted_exactly_and_never_memoised() -> None:
    short = "A short line of 6 words."
    long_line = "word " * (LINE_MEMO_CHARS // 5 + 1)

    def lookups() -> int:
        info = _line_memo.cache_info()
        return info.hits + info.misses

    before = lookups()
    assert count_tokens(long_line) == len(split_tokens(long_line))
    assert lookups() == before
    mixed = f"{short}\n{long_line}\n{short}"
    assert count_tokens(mixed) == len(split_tokens(mixed)) == 2 * 7 + len(split_tokens(long_line))
    assert lookups() == before + 2  # the short lines only
    lines = f"{short}\n{short.upper()}"
    assert count_tokens(lines) == len(split_tokens(lines))


def test_truncate_keeps_whole_tokens() -> None:
    assert truncate_tokens("The Eiffel Tower is in Paris.", 3) == "The Eiffel Tower"
    assert truncate_tokens("internationalization", 2) == "intern" + "ationa"
    assert truncate_tokens("short", 10) == "short"
    assert truncate_tokens("anything", 0) == ""


def test_message_overhead() -> None:
    assert count_message_tokens(["Hi"]) == 3 + 4 + 1
    assert count_message_tokens([]) == 3


def test_ascii_counting_agrees_with_the_token_pattern() -> None:
    # ASCII text is counted by character classes, not by the regex: same numbers.
    rng = random.Random(7)
    alphabet = [chr(code) for code in range(128)]
    weights = [30 if char in "aZq09 \n\t._-" else 1 for char in alphabet]
    for _ in range(5_000):
        text = "".join(rng.choices(alphabet, weights, k=rng.choice([1, 5, 40, 300])))
        assert count_tokens(text) == len(split_tokens(text)), repr(text)
