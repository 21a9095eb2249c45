"""Tokens, k-grams and winnowed fingerprints of a submission (steps 1 to 4 of the
package's docstring)."""

from __future__ import annotations

import functools
import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_for_filename
from pygments.token import Comment, Literal, Name, Number, String, _TokenType, is_token_subtype
from pygments.util import ClassNotFound

K = 20
W = 16
SCHEME = 1  # the normalisation's version: fingerprints of another scheme do not compare
MAX_FILE_BYTES = 512 * 1024  # larger files are generated or data, not code someone wrote
_HASH_MASK = (1 << 63) - 1
_NOT_CODE = frozenset({"text", "output", "json", "json-object", "jsonld", "yaml"})
_DROP = ""  # the empty symbol: the token is dropped


class SourceFile(BaseModel):
    """One file that has fingerprints, with its text for showing fragments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    text: str = Field(repr=False)
    tokens: int = Field(ge=0, description="Normalised tokens in the file.")

    @functools.cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()


class Fingerprints(BaseModel):
    """A submission's fingerprints, starter excluded: store it as JSON, compare it later.

    Fingerprint `i` is `hashes[i]`, from the k-gram starting at token `tokens[i]`
    of `files[file[i]]`, which spans lines `first_line[i]` to `last_line[i]`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="The submission's label, shown in comparisons.")
    scheme: int = SCHEME
    k: int = Field(K, ge=1)
    w: int = Field(W, ge=1)
    files: list[SourceFile] = Field(default_factory=list)
    hashes: list[int] = Field(default_factory=list)
    file: list[int] = Field(default_factory=list)
    tokens: list[int] = Field(default_factory=list)
    first_line: list[int] = Field(default_factory=list)
    last_line: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _parallel(self) -> Fingerprints:
        lengths = {len(self.file), len(self.tokens), len(self.first_line), len(self.last_line)}
        if lengths != {len(self.hashes)}:
            raise ValueError("hashes, file, tokens, first_line and last_line differ in length")
        if any(not 0 <= f < len(self.files) for f in self.file):
            raise ValueError("a fingerprint names a file that is not in files")
        return self

    @functools.cached_property
    def hash_set(self) -> frozenset[int]:
        return frozenset(self.hashes)

    @functools.cached_property
    def positions(self) -> dict[int, list[int]]:
        """Hash -> indices of the fingerprints that have it."""
        found: dict[int, list[int]] = defaultdict(list)
        for i, h in enumerate(self.hashes):
            found[h].append(i)
        return dict(found)

    @functools.cached_property
    def per_file(self) -> list[int]:
        """Fingerprints of each of `files`."""
        counts = Counter(self.file)
        return [counts[i] for i in range(len(self.files))]


@dataclass(frozen=True)
class TokenStream:
    """A file's normalised tokens, each with its first and last line."""

    path: str
    text: str
    symbols: list[str]
    first_lines: list[int]
    last_lines: list[int]


def tokenise_file(path: str, data: bytes) -> TokenStream | None:
    """The normalised tokens of a file (the package's rules), or None when it is skipped."""
    if len(data) > MAX_FILE_BYTES or b"\x00" in data:
        return None
    lexer = _lexer_for(PurePosixPath(path).name)
    if lexer is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    symbols: list[str] = []
    firsts: list[int] = []
    lasts: list[int] = []
    line = 1
    in_string = False  # the last kept token is an `S`: string pieces merge into it
    for ttype, value in lexer.get_tokens(text):
        kind = _symbol(ttype)
        symbol = value.strip() if kind is None else kind
        newlines = value.count("\n")
        if symbol:
            end = line + value.rstrip().count("\n")
            if symbol == "S" and in_string:
                lasts[-1] = end
            else:
                symbols.append(symbol)
                firsts.append(line + (len(value) - len(value.lstrip("\n"))))
                lasts.append(end)
                in_string = symbol == "S"
        line += newlines
    return TokenStream(path, text, symbols, firsts, lasts)


def starter_fingerprints(files: Mapping[str, bytes], *, k: int = K) -> frozenset[int]:
    """Every k-gram hash of the starter kit's files: what `fingerprint_files` excludes."""
    found: set[int] = set()
    for path, data in sorted(files.items()):
        stream = tokenise_file(path, data)
        if stream is not None:
            found.update(_kgram_hashes(stream.symbols, k))
    return frozenset(found)


def fingerprint_files(
    files: Mapping[str, bytes],
    *,
    name: str,
    starter: frozenset[int] = frozenset(),
    k: int = K,
    w: int = W,
) -> Fingerprints:
    """The winnowed fingerprints of a submission's files, minus the starter's hashes."""
    kept: list[SourceFile] = []
    hashes: list[int] = []
    file: list[int] = []
    tokens: list[int] = []
    firsts: list[int] = []
    lasts: list[int] = []
    for path, data in sorted(files.items()):
        # The checks of tokenise_file that need no tokens, first: a large data file
        # is not hashed as a key of the cache, nor kept there.
        if len(data) > MAX_FILE_BYTES or _lexer_for(PurePosixPath(path).name) is None:
            continue
        found = _winnowed(path, data, k, w)
        if found is None:
            continue
        text, count, selected = found
        chosen = [s for s in selected if s[0] not in starter]
        if not chosen:
            continue
        index = len(kept)
        kept.append(SourceFile(path=path, text=text, tokens=count))
        for h, token, first, last in chosen:
            hashes.append(h)
            file.append(index)
            tokens.append(token)
            firsts.append(first)
            lasts.append(last)
    return Fingerprints(
        name=name, k=k, w=w, files=kept, hashes=hashes, file=file, tokens=tokens,
        first_line=firsts, last_line=lasts,
    )  # fmt: skip


# The starter's files come again in every submission: kept by content, they are
# tokenised once (Pygments is most of the time). Only what winnowing selects is
# kept, a few kB a file.
@functools.lru_cache(maxsize=64)
def _winnowed(
    path: str, data: bytes, k: int, w: int
) -> tuple[str, int, tuple[tuple[int, int, int, int], ...]] | None:
    """A file's text, token count and (hash, token, first line, last line) of each
    winnowed k-gram; None when the file is skipped."""
    stream = tokenise_file(path, data)
    if stream is None:
        return None
    grams = _kgram_hashes(stream.symbols, k)
    selected = tuple(
        (grams[i], i, stream.first_lines[i], stream.last_lines[i + k - 1])
        for i in _winnow(grams, w)
    )
    return stream.text, len(stream.symbols), selected


@functools.lru_cache(maxsize=1024)
def _lexer_for(filename: str) -> Lexer | None:
    try:
        lexer = get_lexer_for_filename(filename, stripnl=False)
    except ClassNotFound:
        return None
    return None if _NOT_CODE.intersection(lexer.aliases) else lexer


@functools.lru_cache(maxsize=4096)
def _symbol(ttype: _TokenType) -> str | None:
    """The normalised symbol of a token type; `_DROP` to drop it, None to keep its
    text (stripped: whitespace is dropped)."""
    if is_token_subtype(ttype, Comment) or is_token_subtype(ttype, String.Doc):
        return _DROP
    if is_token_subtype(ttype, Name):
        return "N"
    if is_token_subtype(ttype, String):
        return "S"
    if is_token_subtype(ttype, Number):
        return "0"
    if is_token_subtype(ttype, Literal):
        return "L"
    return None


@functools.lru_cache(maxsize=65536)
def _symbol_id(symbol: str) -> bytes:
    return hashlib.blake2b(symbol.encode(), digest_size=8).digest()


def _kgram_hashes(symbols: list[str], k: int) -> list[int]:
    """The 63-bit blake2b hash of every k-gram, by its first token."""
    if len(symbols) < k:
        return []
    ids = memoryview(b"".join(_symbol_id(s) for s in symbols))
    blake2b, width = hashlib.blake2b, 8 * k
    return [
        int.from_bytes(blake2b(ids[at : at + width], digest_size=8).digest(), "big") & _HASH_MASK
        for at in range(0, len(ids) - width + 1, 8)
    ]


def _winnow(hashes: list[int], w: int) -> list[int]:
    """Indices of the selected hashes, in order: each window's minimum, ties kept."""
    if not hashes:
        return []
    if len(hashes) < w:  # one short window
        low = min(hashes)
        return [hashes.index(low)]
    selected: list[int] = []
    window: list[int] = []  # indices of increasing hashes: the front is the minimum
    start = 0
    for i, h in enumerate(hashes):
        while len(window) > start and hashes[window[-1]] > h:
            window.pop()
        window.append(i)
        if window[start] <= i - w:
            start += 1
        if i >= w - 1 and (not selected or selected[-1] != window[start]):
            selected.append(window[start])
    return selected
