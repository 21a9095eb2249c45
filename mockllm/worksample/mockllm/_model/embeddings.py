"""Embeddings that carry meaning: all-MiniLM-L6-v2's vectors, fitted to each model's size.

Every embedding model of the catalogue is served by the same sentence-embedding model
(`worksample.mockllm._model.minilm`, 384 dimensions), so paraphrases are near and
unrelated texts far apart whatever their words. A model of ``D`` dimensions gets a
fixed linear map of that vector, the same on every run:

* ``D <= 384``: its first ``D`` coordinates;
* ``D > 384``: the 384 coordinates scaled by ``sqrt(3)/2``, then ``D - 384`` more made
  by a fixed matrix with orthonormal columns (from a seeded Gaussian, one per ``D``)
  scaled by ``1/2``. From ``D = 768`` on (``text-embedding-3-small`` and ``-large``)
  the map keeps lengths and angles exactly (``P^T P = I``): cosines are MiniLM's.

``dimensions`` keeps the first coordinates of that vector and renormalises them, as
OpenAI documents for its v3 models. Three quarters of every vector's length is in its
first 384 coordinates, so a cut anywhere keeps cosines close, and a cut to ``k <= 384``
is MiniLM's first ``k`` coordinates: the vector of a ``k``-dimensional model.

A text's model vector is memoised (a forward pass costs milliseconds, and a corpus is
embedded again and again), and so are its JSON and base64 forms per size. The batch
functions run the texts that are not memoised through the model together, which is
several times faster per text than one at a time; the vectors are the same either way.
"""

from __future__ import annotations

import base64
import math
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from worksample.mockllm._model.memo import memo_short
from worksample.mockllm._model.minilm import DIMENSIONS, load_minilm

__all__ = [
    "EMBED_MEMO_CHARS",
    "embed_text",
    "embedding_base64",
    "embedding_json",
    "embeddings_base64",
    "embeddings_json",
    "model_vectors",
]

# Texts are memoised up to this many characters; longer ones are embedded afresh (the
# model reads 256 word pieces, but the memos' bound is on their keys).
EMBED_MEMO_CHARS = 8_192

# The share of a wider vector's length in its first 384 coordinates (see the docstring).
_HEAD = math.sqrt(3) / 2
_TAIL = 1 / 2
_SEED = 0x4D494E494C4D  # "MINILM": the tails' matrices are part of the model

Vector = NDArray[np.float32]


class _VectorMemo:
    """The last `size` model vectors by text (texts up to `EMBED_MEMO_CHARS`). Not an
    ``lru_cache``: a batch asks which of its texts are missing before it computes them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._vectors: OrderedDict[str, Vector] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> Vector | None:
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
            return vector

    def put(self, text: str, vector: Vector) -> None:
        if len(text) > EMBED_MEMO_CHARS:
            return
        with self._lock:
            self._vectors[text] = vector
            self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def __len__(self) -> int:
        return len(self._vectors)


_MEMO = _VectorMemo(4_096)
# One forward pass at a time: requests are served from worker threads, and the BLAS
# thread limit the model sets around a pass is process-wide.
_MODEL_LOCK = threading.Lock()


def model_vectors(texts: Sequence[str]) -> list[Vector]:
    """all-MiniLM-L6-v2's unit vector of each text (read-only arrays): the memoised ones
    from the memo, the others from one batched pass through the model."""
    found = [_MEMO.get(text) for text in texts]
    missing = list(dict.fromkeys(t for t, v in zip(texts, found, strict=True) if v is None))
    computed: dict[str, Vector] = {}
    if missing:
        with _MODEL_LOCK:
            computed = dict(zip(missing, load_minilm().embed(missing), strict=True))
        for text, vector in computed.items():
            vector.flags.writeable = False  # shared by every caller of the memo
            _MEMO.put(text, vector)
    return [computed[t] if v is None else v for t, v in zip(texts, found, strict=True)]


@lru_cache(maxsize=8)
def _tail_map(dims: int) -> Vector:
    """The ``[dims - 384, 384]`` matrix that makes coordinates 384 onwards: orthonormal
    columns when it has enough rows, orthonormal rows when it has fewer."""
    rows = dims - DIMENSIONS
    generator = np.random.default_rng([_SEED, dims])
    # In float64, then rounded: the float32 matrix is the same whatever LAPACK's last bits.
    if rows >= DIMENSIONS:
        matrix = np.linalg.qr(generator.standard_normal((rows, DIMENSIONS)))[0]
    else:
        matrix = np.linalg.qr(generator.standard_normal((DIMENSIONS, rows)))[0].T
    tail: Vector = (matrix * _TAIL).astype(np.float32)
    tail.flags.writeable = False
    return tail


def _fit(model: Vector, dims: int, keep: int | None) -> Vector:
    """The unit vector of `dims` dimensions made from the model's vector, cut to `keep`."""
    size = dims if keep is None else min(keep, dims)
    if size <= DIMENSIONS:
        vector = model[:size].copy()
    else:
        vector = np.empty(size, np.float32)
        vector[:DIMENSIONS] = model * np.float32(_HEAD)
        with load_minilm().one_blas_thread():  # see MiniLM.one_blas_thread
            vector[DIMENSIONS:] = _tail_map(dims)[: size - DIMENSIONS] @ model
    # Summed by numpy, not BLAS: the same thread, and the same sum, whatever BLAS does.
    vector /= np.sqrt(np.square(vector).sum())
    return vector


def _json(vector: Vector) -> str:
    values = vector.tolist()
    if 0.0 in values:
        # "%.9g" writes a zero as "0"; JSON readers want it to look like a float.
        return "[" + ",".join("%.9g" % v if v else "0.0" for v in values) + "]"  # noqa: UP031
    # One format call for the whole vector: a third faster than a join.
    return "[" + ("%.9g," * len(values) % tuple(values))[:-1] + "]"


def _base64(vector: Vector) -> str:
    return base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")


def embed_text(text: str, dims: int, keep: int | None = None) -> array[float]:
    """The unit vector of `text` in `dims` dimensions, cut to its first `keep` ones."""
    return array("f", _fit(model_vectors([text])[0], dims, keep).tobytes())


@memo_short(1024, max_chars=EMBED_MEMO_CHARS)
def embedding_json(text: str, dims: int, keep: int | None = None) -> str:
    """The vector as a JSON array of its float32 values with 9 significant digits (enough
    to give back the exact float32). Memoised per text and size."""
    return _json(_fit(model_vectors([text])[0], dims, keep))


@memo_short(1024, max_chars=EMBED_MEMO_CHARS)
def embedding_base64(text: str, dims: int, keep: int | None = None) -> str:
    """The vector as base64 of little-endian float32 bytes. Memoised per text and size."""
    return _base64(_fit(model_vectors([text])[0], dims, keep))


def _encoded(
    texts: Sequence[str],
    dims: int,
    keep: int | None,
    memoised: Callable[[str, int, int | None], str],
    encode: Callable[[Vector], str],
) -> list[str]:
    """Each text's vector encoded: the missing model vectors computed in one batch, then
    the memoised encoding (which finds the vector in the memo) or, for a text too long
    for the memos, `encode` of the vector just computed."""
    vectors = model_vectors(texts)
    return [
        memoised(text, dims, keep)
        if len(text) <= EMBED_MEMO_CHARS
        else encode(_fit(vector, dims, keep))
        for text, vector in zip(texts, vectors, strict=True)
    ]


def embeddings_json(texts: Sequence[str], dims: int, keep: int | None = None) -> list[str]:
    """`embedding_json` of each text, the missing model vectors computed in one batch."""
    return _encoded(texts, dims, keep, embedding_json, _json)


def embeddings_base64(texts: Sequence[str], dims: int, keep: int | None = None) -> list[str]:
    """`embedding_base64` of each text, the missing model vectors computed in one batch."""
    return _encoded(texts, dims, keep, embedding_base64, _base64)
