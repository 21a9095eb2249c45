"""Deterministic embeddings from hashed word and sub-word features.

Each word of a text (lower-cased, plural ``s`` stripped) adds weight 1.0 (0.25 for
a stop word) to one coordinate, and each of its character trigrams (of the word
wrapped in ``<`` and ``>``) adds 0.35 to another. Coordinates and signs come from
CRC-32 of the feature, so the vectors are the same on every machine and run.
Vectors are L2-normalised float32 values. Texts sharing words or word parts get a
high cosine similarity; unrelated texts land near 0, so retrieval works.

``dimensions`` truncates the model's vector and renormalises it, as OpenAI
documents for its v3 models.
"""

from __future__ import annotations

import base64
import math
import sys
import zlib
from array import array
from collections import Counter, defaultdict
from functools import lru_cache

from worksample.mockllm._extractive import content_terms, split_words

__all__ = ["embed_text", "embedding_base64", "embedding_json", "encode_base64"]

_WORD_WEIGHT = 1.0
_STOP_WEIGHT = 0.25
_GRAM_WEIGHT = 0.35


def _feature(name: str, weight: float, dims: int) -> tuple[int, float]:
    digest = zlib.crc32(name.encode("utf-8"))
    sign = -1.0 if digest & 0x8000_0000 else 1.0
    return digest % dims, sign * weight


@lru_cache(maxsize=131_072)
def _word_features(word: str, dims: int) -> tuple[tuple[int, float], ...]:
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


def _weights(text: str, dims: int, size: int) -> tuple[dict[int, float], float]:
    """The summed feature weights of `text` below `size`, and the factor normalising them."""
    weights: defaultdict[int, float] = defaultdict(float)
    for word, count in Counter(split_words(text)).items():
        for index, weight in _word_features(word, dims):
            weights[index] += count * weight
    if size < dims:
        weights = defaultdict(float, {i: w for i, w in weights.items() if i < size})
    norm = math.hypot(*weights.values())
    if norm == 0.0:
        # No words at all (only punctuation or spaces): a fixed direction per text.
        return {zlib.crc32(text.encode("utf-8")) % size: 1.0}, 1.0
    return weights, 1.0 / norm


def embed_text(text: str, dims: int, keep: int | None = None) -> array[float]:
    """The unit vector of `text` in `dims` dimensions, cut to its first `keep` ones."""
    size = dims if keep is None else keep
    weights, scale = _weights(text, dims, size)
    values = [0.0] * size
    for index, weight in weights.items():
        values[index] = weight * scale
    return array("f", values)


def _number(value: float) -> str:
    text = "%.9g" % value  # noqa: UP031 - twice as fast as format(), on the hot path
    return text if "." in text or "e" in text else text + ".0"


@lru_cache(maxsize=2048)
def embedding_json(text: str, dims: int, keep: int | None = None) -> str:
    """The vector as a JSON array: float32 values with 9 significant digits (enough to
    give back the exact float32), zeros as ``0.0``. Memoised per text."""
    size = dims if keep is None else keep
    weights, scale = _weights(text, dims, size)
    parts = ["0.0"] * size
    values = array("f", [weight * scale for weight in weights.values()]).tolist()
    for index, value in zip(weights, values, strict=True):
        if value:
            parts[index] = _number(value)
    return "[" + ",".join(parts) + "]"


@lru_cache(maxsize=2048)
def embedding_base64(text: str, dims: int, keep: int | None = None) -> str:
    """The vector as base64 of little-endian float32 bytes. Memoised per text."""
    return encode_base64(embed_text(text, dims, keep))


def encode_base64(vector: array[float]) -> str:
    """Little-endian float32 bytes in base64: OpenAI's ``encoding_format="base64"``."""
    if sys.byteorder == "big":
        vector = array("f", vector)
        vector.byteswap()
    return base64.b64encode(vector.tobytes()).decode("ascii")
