"""Deterministic embeddings from hashed word and sub-word features.

Each word of a text (lower-cased, plural ``s`` stripped) adds weight 1.0 (0.25 for
a stop word) to one coordinate, and each of its character trigrams (of the word
wrapped in ``<`` and ``>``) adds 0.35 to another. Coordinates and signs come from
CRC-32 of the feature, so the vectors are the same on every machine and run.
Vectors are L2-normalised float32 values. Texts sharing words or word parts get a
high cosine similarity; unrelated texts land near 0, so retrieval works.

``dimensions`` truncates the model's vector and renormalises it, as OpenAI
documents for its v3 models.

Every text of a batch is usually new, so the per-text work is what counts: the
features of each word are memoised (per model size), the sums run in one pass
over a plain dict, and the JSON form formats each
distinct value rather than once per coordinate.
"""

from __future__ import annotations

import base64
import math
import sys
import zlib
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable
from functools import lru_cache

from worksample.mockllm._model.extractive import MEMO_WORD_CHARS, content_terms, split_words
from worksample.mockllm._model.memo import memo_short

__all__ = ["embed_text", "embedding_base64", "embedding_json", "encode_base64"]

_WORD_WEIGHT = 1.0
_STOP_WEIGHT = 0.25
_GRAM_WEIGHT = 0.35

Features = tuple[tuple[int, float], ...]

# Texts are memoised up to this many characters; longer ones are embedded afresh.
EMBED_MEMO_CHARS = 8_192


def _feature(name: str, weight: float, dims: int) -> tuple[int, float]:
    digest = zlib.crc32(name.encode("utf-8"))
    sign = -1.0 if digest & 0x8000_0000 else 1.0
    return digest % dims, sign * weight


def _word_features(word: str, dims: int) -> Features:
    terms = content_terms(word)
    term = terms[0] if terms else word
    weight = _WORD_WEIGHT if terms else _STOP_WEIGHT
    features = [_feature("w:" + term, weight, dims)]
    wrapped = f"<{term}>"
    features.extend(
        _feature("g:" + wrapped[i : i + 3], _GRAM_WEIGHT, dims) for i in range(len(wrapped) - 2)
    )
    merged: defaultdict[int, float] = defaultdict(float)
    for index, value in features:
        merged[index] += value
    return tuple(merged.items())


@lru_cache(maxsize=16)
def _features_in(dims: int) -> Callable[[str], Features]:
    """The memoised `_word_features` of one vector size: an ``lru_cache`` of one string
    argument looks the word up directly, where two arguments would build a key tuple."""

    @lru_cache(maxsize=131_072)
    def features(word: str) -> Features:
        return _word_features(word, dims)

    return features


def _weights(text: str, dims: int, size: int) -> tuple[dict[int, float], float]:
    """The summed feature weights of `text` below `size`, and the factor normalising them."""
    # A plain dict and get(): the same sums, in the same order, as `defaultdict(float)`
    # and +=, a third faster.
    weights: dict[int, float] = {}
    get = weights.get
    features = _features_in(dims)
    for word, count in Counter(split_words(text)).items():
        # Only words up to MEMO_WORD_CHARS letters are memoised (a bound in bytes).
        found = features(word) if len(word) <= MEMO_WORD_CHARS else _word_features(word, dims)
        if count == 1:
            for index, weight in found:
                weights[index] = get(index, 0.0) + weight
        else:
            for index, weight in found:
                weights[index] = get(index, 0.0) + count * weight
    if size < dims:
        weights = {i: w for i, w in weights.items() if i < size}
    norm = math.hypot(*weights.values())
    if norm == 0.0:
        # No words at all (only punctuation or spaces): a fixed direction per text.
        return {zlib.crc32(text.encode("utf-8")) % size: 1.0}, 1.0
    return weights, 1.0 / norm


def embed_text(text: str, dims: int, keep: int | None = None) -> array[float]:
    """The unit vector of `text` in `dims` dimensions, cut to its first `keep` ones."""
    size = dims if keep is None else keep
    weights, scale = _weights(text, dims, size)
    vector = array("f", bytes(4 * size))
    for index, weight in weights.items():
        vector[index] = weight * scale
    return vector


@memo_short(2048, max_chars=EMBED_MEMO_CHARS)
def embedding_json(text: str, dims: int, keep: int | None = None) -> str:
    """The vector as a JSON array: float32 values with 9 significant digits (enough to
    give back the exact float32), zeros as ``0.0``. Memoised per text."""
    size = dims if keep is None else keep
    weights, scale = _weights(text, dims, size)
    # The weights are sums of a few fixed amounts: a vector holds few distinct magnitudes.
    # Each is rounded to float32 and formatted once ("%.9g" is slow); -w gives "-" and
    # the text of w. Of values in [-1, 1] only 1 and 0 come out without "." or "e".
    magnitudes = list(set(map(abs, weights.values())))
    rounded = array("f", [magnitude * scale for magnitude in magnitudes]).tolist()
    shown: dict[float, str] = {}
    for magnitude, value in zip(magnitudes, rounded, strict=True):
        written = "%.9g" % value if value not in (0.0, 1.0) else f"{value:.1f}"  # noqa: UP031
        shown[magnitude] = written
        shown[-magnitude] = "-" + written if value else written
    parts = ["0.0"] * size
    for index, weight in weights.items():
        parts[index] = shown[weight]
    parts[0] = "[" + parts[0]
    parts[-1] += "]"
    return ",".join(parts)


@memo_short(2048, max_chars=EMBED_MEMO_CHARS)
def embedding_base64(text: str, dims: int, keep: int | None = None) -> str:
    """The vector as base64 of little-endian float32 bytes. Memoised per text."""
    return encode_base64(embed_text(text, dims, keep))


def encode_base64(vector: array[float]) -> str:
    """Little-endian float32 bytes in base64: OpenAI's ``encoding_format="base64"``."""
    if sys.byteorder == "big":
        vector = array("f", vector)
        vector.byteswap()
    return base64.b64encode(vector.tobytes()).decode("ascii")
