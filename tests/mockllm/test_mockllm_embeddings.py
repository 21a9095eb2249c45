"""The embeddings' form and sizes: unit float32 vectors, similar texts near, retrieval works.

What the vectors mean (paraphrases, the published reference) and their determinism are
tested in test_mockllm_semantic_embeddings.py.
"""

from __future__ import annotations

import json
from array import array
from typing import TYPE_CHECKING

import pytest
from worksample.mockllm._model.embeddings import embed_text, embedding_json

if TYPE_CHECKING:
    from mockserve import MockServer


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_vectors_are_unit_length_and_stable() -> None:
    vector = embed_text("The quick brown fox", 1536)
    assert len(vector) == 1536
    assert abs(sum(v * v for v in vector) - 1.0) < 1e-5
    assert embed_text("The quick brown fox", 1536) == vector
    # Punctuation alone is a text the model reads too: a unit vector like any other.
    assert abs(sum(v * v for v in embed_text("...", 64)) - 1.0) < 1e-5
    assert array("f", json.loads(embedding_json("The quick brown fox", 1536))) == vector


@pytest.mark.parametrize(
    ("text", "dims", "keep"),
    [("The quick brown fox", 1536, None), ("a a b", 8, None), ("Zürich, 2024!", 3072, 256),
     ("...", 64, None), ("to be or not to be", 1536, 3)],
)  # fmt: skip
def test_float_json_is_each_float32_with_nine_digits(
    text: str, dims: int, keep: int | None
) -> None:
    # The vector is formatted value by distinct value; this is the plain definition.
    values = embed_text(text, dims, keep).tolist()
    shown = ["%.9g" % v if v else "0.0" for v in values]  # noqa: UP031
    plain = "[" + ",".join(s if "." in s or "e" in s else s + ".0" for s in shown) + "]"
    assert embedding_json.__wrapped__(text, dims, keep) == plain


def test_similar_texts_are_nearer_than_unrelated_ones() -> None:
    cat = embed_text("The cat sat on the mat", 1536).tolist()
    cats = embed_text("Cats sitting on mats", 1536).tolist()
    stocks = embed_text("Stock markets fell sharply today", 1536).tolist()
    assert _cosine(cat, cats) > 0.6
    assert abs(_cosine(cat, stocks)) < 0.15


def test_retrieval_by_embeddings_finds_the_right_document(mock: MockServer) -> None:
    documents = [
        "Refunds are processed within 14 days of the return.",
        "Our office is open Monday to Friday from 9 to 5.",
        "Shipping to Europe takes three to five business days.",
        "Passwords must be at least twelve characters long.",
    ]
    queries = {
        "How long does a refund take?": 0,
        "When is the office open?": 1,
        "How many days for shipping to Europe?": 2,
        "What is the minimum password length?": 3,
    }
    with mock.openai() as client:
        docs = client.embeddings.create(
            model="text-embedding-3-small", input=documents, encoding_format="float"
        )
        asked = client.embeddings.create(
            model="text-embedding-3-small", input=list(queries), encoding_format="float"
        )
    for query, expected in zip(asked.data, queries.values(), strict=True):
        scores = [_cosine(query.embedding, d.embedding) for d in docs.data]
        assert scores.index(max(scores)) == expected
