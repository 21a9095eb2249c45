"""Embeddings carry meaning: all-MiniLM-L6-v2, checked against its published outputs,
paraphrases of handbook questions near and unrelated ones far, the same vectors in every
process, batch and encoding."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from array import array
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from worksample.mockllm._model.embeddings import (
    EMBED_MEMO_CHARS,
    embed_text,
    embeddings_base64,
    embeddings_json,
    model_vectors,
)
from worksample.mockllm._model.minilm import MODEL_PACKAGE, load_minilm

if TYPE_CHECKING:
    from mockserve import MockServer

# Written for this test, one topic of the handbook each; few words are shared within
# a pair, so word overlap alone would not find them ("annual leave allowance" and
# "vacation days per year" scored 0.0 with the mock's former lexical embeddings).
PARAPHRASES: dict[str, list[tuple[str, str]]] = {
    "leave": [
        ("annual leave allowance", "vacation days per year"),
        ("How many days off do I get each year?", "What is my yearly holiday entitlement?"),
        ("Can I carry unused vacation into next year?",
         "Do leftover holidays roll over to the following year?"),
        ("I need to call in sick today.", "I am ill and cannot come to work this morning."),
        ("When do I need a doctor's note?", "At what point is a medical certificate required?"),
        ("How long is paid parental leave?",
         "How many weeks off do new parents get with full pay?"),
        ("Time off after a family member dies", "Bereavement leave when a relative passes away"),
        ("Can I take a day to volunteer for a charity?",
         "Is there paid time for community service?"),
    ],
    "expenses": [
        ("How do I get reimbursed for a business lunch?",
         "Claiming back the cost of a meal with a client"),
        ("What is the daily meal allowance on a work trip?",
         "How much can I spend on food per day while travelling for the company?"),
        ("Receipts must be submitted within 30 days.",
         "You have one month to hand in proof of purchase."),
        ("Who approves my expense report?", "Which manager signs off on my reimbursement claim?"),
        ("Is the mileage for my own car paid back?",
         "Do I get compensated per kilometre when driving my private vehicle?"),
        ("Alcohol is not reimbursed.", "The company does not pay for drinks like beer or wine."),
        ("I lost the receipt for a taxi ride.",
         "My proof of payment for the cab has gone missing."),
    ],
    "travel": [
        ("Do I have to fly economy class?", "Are business class tickets allowed on flights?"),
        ("How do I book a hotel for a work trip?",
         "Where do I reserve accommodation when travelling on business?"),
        ("Is travel insurance provided for trips abroad?",
         "Am I covered by the company if something happens overseas?"),
        ("Train is preferred for journeys under four hours.",
         "For short trips, take the rail instead of flying."),
        ("Which airline should I book for company flights?",
         "Is there a preferred carrier for business air travel?"),
        ("Who pays for my visa?", "Are the fees for an entry permit covered?"),
        ("What is the nightly hotel limit in London?",
         "How much may a room cost per night in the UK capital?"),
    ],
    "it": [
        ("I forgot my password.", "I can't remember my login credentials."),
        ("My laptop is broken.", "The company notebook computer stopped working."),
        ("How do I connect to the VPN from home?", "Accessing the corporate network remotely"),
        ("What is the monthly mobile data allowance?",
         "How many gigabytes can I use on my work phone each month?"),
        ("Report a phishing email", "I received a suspicious message asking for my credentials."),
        ("Can I install my own software on a work computer?",
         "Am I allowed to add programs to the company laptop?"),
        ("Multi-factor authentication is mandatory.",
         "Everyone must sign in with a second verification step."),
    ],
    "benefits": [
        ("Does the company contribute to my pension?",
         "Is there an employer-paid retirement plan?"),
        ("Is there a gym membership subsidy?",
         "Will the company pay part of my fitness club fees?"),
        ("What health insurance do employees get?", "Which medical coverage is offered to staff?"),
        ("Can I lease a bicycle through the company?",
         "Is there a programme where my employer pays for a bike?"),
        ("Is there a budget for training courses?",
         "How much money is available for professional development?"),
        ("Is there an employee share purchase plan?", "Can staff buy company stock at a discount?"),
        ("Employees can buy discounted public transport passes.",
         "The company subsidises season tickets for buses and trains."),
    ],
}  # fmt: skip
PAIRS = [(topic, a, b) for topic, pairs in PARAPHRASES.items() for a, b in pairs]
# Each first text against the second text of the pair 7 places on, moved on further until
# it is from another topic: as many unrelated pairs as paraphrases, chosen before scoring.
UNRELATED = []
for _i, (_topic, _first, _) in enumerate(PAIRS):
    _j = (_i + 7) % len(PAIRS)
    while PAIRS[_j][0] == _topic:
        _j = (_j + 1) % len(PAIRS)
    UNRELATED.append((_first, PAIRS[_j][2]))
TEXTS = [text for _, a, b in PAIRS for text in (a, b)]

# Published by sentence-transformers for all-MiniLM-L6-v2 (four decimals): the
# quickstart's similarity matrix, and the paraphrase-mining example's top pairs.
QUICKSTART = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
QUICKSTART_SIMILARITIES = [[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]]
MINING = {
    ("The new movie is awesome", "The new movie is so great"): 0.8939,
    ("The cat sits outside", "The cat plays in the garden"): 0.6788,
    ("I love pasta", "Do you like pizza?"): 0.5096,
    ("I love pasta", "The new movie is so great"): 0.2560,
    ("I love pasta", "The new movie is awesome"): 0.2440,
    ("A man is playing guitar", "The cat plays in the garden"): 0.2105,
    ("The new movie is awesome", "Do you like pizza?"): 0.1969,
    ("The new movie is so great", "Do you like pizza?"): 0.1692,
    ("The cat sits outside", "A woman watches TV"): 0.1310,
}
# Hugging Face's sentence-transformers/all-MiniLM-L6-v2 at revision 1110a243.
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

# Every catalogue size, and `dimensions` cuts below and above the model's 384.
SIZES = [(1536, None), (3072, None), (256, None), (1536, 256), (1536, 512), (3072, 1024)]


def _vectors(texts: list[str], dims: int = 384, keep: int | None = None) -> np.ndarray:
    return np.stack([np.array(embed_text(text, dims, keep)) for text in texts])


def test_the_model_files_are_hugging_faces() -> None:
    folder = Path(str(files(MODEL_PACKAGE) / "model"))
    for name, digest in (
        ("model.safetensors", WEIGHTS_SHA256),
        ("tokenizer.json", TOKENIZER_SHA256),
    ):
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_the_published_similarities_are_reproduced() -> None:
    quickstart = _vectors(QUICKSTART)
    assert quickstart @ quickstart.T == pytest.approx(np.array(QUICKSTART_SIMILARITIES), abs=1e-4)
    for (a, b), score in MINING.items():
        first, second = _vectors([a, b])
        assert float(first @ second) == pytest.approx(score, abs=1e-4), (a, b)


@pytest.mark.parametrize(("dims", "keep"), SIZES)
def test_paraphrases_score_well_above_unrelated_pairs(dims: int, keep: int | None) -> None:
    vectors = dict(zip(TEXTS, _vectors(TEXTS, dims, keep), strict=True))
    paraphrases = sorted((float(vectors[a] @ vectors[b]), a, b) for _, a, b in PAIRS)
    unrelated = sorted((float(vectors[a] @ vectors[b]), a, b) for a, b in UNRELATED)
    weakest, closest = paraphrases[0], unrelated[-1]
    assert weakest[0] > closest[0] + 0.05, (weakest, closest)
    # And on average, against every pair of texts from different topics.
    across = [
        float(vectors[a] @ vectors[b])
        for topic, a, _ in PAIRS
        for other, _, b in PAIRS
        if other != topic
    ]
    assert np.mean([score for score, _, _ in paraphrases]) > np.mean(across) + 0.4


def test_full_vectors_keep_the_models_cosines() -> None:
    base = _vectors(QUICKSTART)
    for dims in (1536, 3072):  # P^T P = I: the same angles, up to float32 rounding
        wide = _vectors(QUICKSTART, dims)
        assert wide @ wide.T == pytest.approx(base @ base.T, abs=1e-6)
    # A cut to k <= 384 is the model's first k coordinates, renormalised.
    head = base[0, :256] / np.linalg.norm(base[0, :256])
    assert np.array(embed_text(QUICKSTART[0], 3072, 256)) == pytest.approx(head, abs=1e-6)


def test_a_text_has_the_same_vector_alone_and_in_any_batch() -> None:
    model = load_minilm()
    texts = TEXTS[:14]  # 3 to 17 word pieces: short texts are where kernels differ
    alone = {text: model.embed([text])[0] for text in texts}
    orders = [texts, texts[::-1], [texts[5], *texts[1::2], *texts[::2], texts[5]]]
    for order in orders:
        for size in (2, 5, len(order)):
            for start in range(0, len(order), size):
                batch = order[start : start + size]
                for text, vector in zip(batch, model.embed(batch), strict=True):
                    assert np.array_equal(vector, alone[text]), (size, text)


_PROBE = """
import hashlib, json, sys
from worksample.mockllm._model.embeddings import embed_text
texts, sizes = json.loads(sys.argv[1])
print(json.dumps([hashlib.sha256(embed_text(t, d, k).tobytes()).hexdigest()
                  for t in texts for d, k in sizes]))
"""


@pytest.mark.parametrize("blas_threads", ["1", "2"])
def test_vectors_are_identical_in_another_process(blas_threads: str) -> None:
    texts = [*QUICKSTART, TEXTS[0], "Zürich, 2024!", "word " * 400]  # the last one is cut at 256
    env = {**os.environ, "OPENBLAS_NUM_THREADS": blas_threads}
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps([texts, SIZES])],
        capture_output=True, text=True, check=True, env=env, timeout=120,
    )  # fmt: skip
    here = [
        hashlib.sha256(embed_text(t, d, k).tobytes()).hexdigest() for t in texts for d, k in SIZES
    ]
    assert json.loads(run.stdout) == here


def test_batches_give_what_single_texts_give() -> None:
    texts = ["Payslips are available on the 25th.", "Payslips are available on the 25th.",
             "Where is my payslip?", "x" * (EMBED_MEMO_CHARS + 1)]  # fmt: skip
    for dims, keep in SIZES:
        floats = [json.loads(text) for text in embeddings_json(texts, dims, keep)]
        packed = [base64.b64decode(text) for text in embeddings_base64(texts, dims, keep)]
        for text, listed, raw in zip(texts, floats, packed, strict=True):
            assert array("f", listed) == array("f", raw) == embed_text(text, dims, keep)
    first, again = model_vectors(texts[:2])
    assert first is again and not first.flags.writeable  # one memo entry, shared read-only


def test_the_sdk_gets_the_same_vectors_from_the_server(mock: MockServer) -> None:
    texts = [TEXTS[0], TEXTS[1], "Where do I report a lost badge?"]
    with mock.openai() as strict, mock.openai(_strict_response_validation=False) as lenient:
        for model, dims in (("text-embedding-3-small", 1536), ("mock-embedding-small", 256)):
            floats = strict.embeddings.create(model=model, input=texts, encoding_format="float")
            default = lenient.embeddings.create(model=model, input=texts)  # base64 on the wire
            for text, plain, decoded in zip(texts, floats.data, default.data, strict=True):
                assert array("f", plain.embedding) == embed_text(text, dims)
                assert array("f", decoded.embedding) == embed_text(text, dims)
        cut = strict.embeddings.create(
            model="text-embedding-3-large", input=texts[0], dimensions=512, encoding_format="float"
        )
        assert array("f", cut.data[0].embedding) == embed_text(texts[0], 3072, 512)


def test_retrieval_finds_paraphrased_questions(mock: MockServer) -> None:
    """Questions find pages that say the same in other words: first, or nearly."""
    pages = [b for _, _, b in PAIRS]
    with mock.openai() as client:
        embedded = client.embeddings.create(
            model="text-embedding-3-small", input=pages, encoding_format="float"
        )
        asked = client.embeddings.create(
            model="text-embedding-3-small", input=[a for _, a, _ in PAIRS], encoding_format="float"
        )
    corpus = np.array([d.embedding for d in embedded.data])
    scores = np.array([q.embedding for q in asked.data]) @ corpus.T
    # How many pages score above the right one, per question.
    above = (scores > scores.diagonal()[:, None]).sum(axis=1)
    assert max(above) < 3  # the misses are near-paraphrases of each other (vacation days)
    assert (above == 0).sum() >= 30
