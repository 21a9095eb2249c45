"""Embeddings: texts a second on one core, all-MiniLM-L6-v2 against the lexical embedder.

    .venv/bin/python benchmarks/embeddings.py [--rounds 5] [--core N]

Pins this process to one core (--core, default the last) and times, per round, the
float JSON of every text of two workloads, each text new to every memo (a round
number is appended to each text):

  pages      the 80 pages of exercises/ai-rag-handbook (one or two sentences each;
             their word-piece counts are printed)
  questions  30 short handbook questions

with three embedders:

  lexical    the hashed word and trigram features the mock served before issue 15,
             copied below as they were (the baseline: the cost of an answer that
             carries no meaning)
  one by one `embedding_json(text, 1536)` per text, the model's vector included:
             a client that sends one text per request
  batch 16   `embeddings_json(texts, 1536)` on 16 texts at a time: what
             `/v1/embeddings` does with a request of 16 texts

and prints texts a second (the median round) by wall time and by CPU time, each
also as a share of the baseline, then the cosines of the issue's example pair
under both. Goal (issue 15): at least 200 texts a second on one core.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import time
import zlib
from array import array
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from worksample.mockllm._model.embeddings import embed_text, embedding_json, embeddings_json
from worksample.mockllm._model.extractive import content_terms, split_words
from worksample.mockllm._model.minilm import load_minilm

ROOT = Path(__file__).resolve().parents[1]
HANDBOOK = ROOT / "exercises" / "ai-rag-handbook" / "starter" / "data" / "handbook.jsonl"
QUESTIONS = [
    "How many vacation days do I get?", "Can I carry over unused leave?",
    "When do I need a doctor's note?", "How long is parental leave?",
    "What is the meal allowance abroad?", "Who approves my expenses?",
    "How fast are expenses paid back?", "Is mileage reimbursed?",
    "Can I fly business class?", "What is the hotel limit in Berlin?",
    "Do I need approval for a trip?", "Who books train tickets?",
    "How do I reset my password?", "What is the mobile data allowance?",
    "Can I use my own laptop?", "How do I report phishing?",
    "Is there a gym subsidy?", "How much does the company pay into my pension?",
    "Is there a training budget?", "Can I lease a bike?",
    "How many days can I work from home?", "Can I work from another country?",
    "Where is lost property kept?", "Which band plays at the summer festival?",
    "How do I book a meeting room?", "When is the office closed?",
    "Who is my HR contact?", "How do I change my bank details?",
    "Is overtime paid?", "What happens on my first day?",
]  # fmt: skip

# --- the baseline: the mock's embeddings before issue 15, as they were --------------


def _feature(name: str, weight: float, dims: int) -> tuple[int, float]:
    digest = zlib.crc32(name.encode("utf-8"))
    return digest % dims, -weight if digest & 0x8000_0000 else weight


@lru_cache(maxsize=131_072)
def _word_features(word: str, dims: int) -> tuple[tuple[int, float], ...]:
    terms = content_terms(word)  # the chat model's stop words and stems, as it was
    stop = not terms
    term = word if stop else terms[0]
    features = [_feature("w:" + term, 0.25 if stop else 1.0, dims)]
    wrapped = f"<{term}>"
    features += [_feature("g:" + wrapped[i : i + 3], 0.35, dims) for i in range(len(wrapped) - 2)]
    merged: dict[int, float] = {}
    for index, value in features:
        merged[index] = merged.get(index, 0.0) + value
    return tuple(merged.items())


def _lexical_weights(text: str, dims: int) -> dict[int, float]:
    weights: dict[int, float] = {}
    for word, count in Counter(split_words(text)).items():
        for index, weight in _word_features(word, dims):
            weights[index] = weights.get(index, 0.0) + count * weight
    norm = math.hypot(*weights.values())
    if norm == 0.0:  # no words at all: a fixed direction per text
        return {zlib.crc32(text.encode("utf-8")) % dims: 1.0}
    return {index: weight / norm for index, weight in weights.items()}


def lexical_json(text: str, dims: int) -> str:
    """The old float JSON: float32 values, each distinct one formatted once."""
    weights = _lexical_weights(text, dims)
    distinct = list(set(weights.values()))
    shown = {}
    for value, rounded in zip(distinct, array("f", distinct).tolist(), strict=True):
        shown[value] = "%.9g" % rounded if rounded not in (0.0, 1.0) else f"{rounded:.1f}"  # noqa: UP031
    parts = ["0.0"] * dims
    for index, weight in weights.items():
        parts[index] = shown[weight]
    return "[" + ",".join(parts) + "]"


def lexical_cosine(a: str, b: str) -> float:
    first, second = _lexical_weights(a, 1536), _lexical_weights(b, 1536)
    return sum(w * second.get(i, 0.0) for i, w in first.items())


# --- the measurement -------------------------------------------------------------------


_ROUNDS = itertools.count(1)


def _rates(
    run: Callable[[list[str]], object], texts: list[str], rounds: int
) -> tuple[float, float]:
    """Texts a second by wall and by CPU time (median rounds), each round on new texts:
    a number of its own appended to each (one more word piece)."""
    walls, cpus = [], []
    for _ in range(rounds):
        number = next(_ROUNDS)
        fresh = [f"{text} {number}" for text in texts]
        wall, cpu = time.perf_counter(), time.process_time()
        run(fresh)
        walls.append(len(texts) / (time.perf_counter() - wall))
        cpus.append(len(texts) / (time.process_time() - cpu))
    return statistics.median(walls), statistics.median(cpus)


def lexical(texts: list[str]) -> None:
    for text in texts:
        lexical_json(text, 1536)


def one_by_one(texts: list[str]) -> None:
    for text in texts:
        embedding_json(text, 1536)


def batch_16(texts: list[str]) -> None:
    for start in range(0, len(texts), 16):
        embeddings_json(texts[start : start + 16], 1536)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--core", type=int, default=max(os.sched_getaffinity(0)))
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    pages = [json.loads(line)["text"] for line in HANDBOOK.read_text().splitlines()]
    model = load_minilm()
    print(f"one core ({args.core}); load average {os.getloadavg()[0]:.2f}; median of {args.rounds}")
    for name, texts in (("pages", pages), ("questions", QUESTIONS)):
        pieces = sorted(len(model.token_ids(f"{text} 1")) for text in texts)
        print(f"\n{name}: {len(texts)} texts of {pieces[0]} to {pieces[-1]} word pieces "
              f"(median {pieces[len(pieces) // 2]})")  # fmt: skip
        base = None
        for embedder in (lexical, one_by_one, batch_16):
            wall, cpu = _rates(embedder, texts, args.rounds)
            base = base or (wall, cpu)
            print(f"  {embedder.__name__:<11} {wall:8.0f} texts/s wall ({wall / base[0]:.4f}x)"
                  f" {cpu:8.0f} texts/s CPU ({cpu / base[1]:.4f}x)")  # fmt: skip
    pair = ("annual leave allowance", "vacation days per year")
    other = "Passwords must be at least twelve characters long."

    def cosine(a: str, b: str) -> float:
        return sum(x * y for x, y in zip(embed_text(a, 1536), embed_text(b, 1536), strict=True))

    print(f"\ncosine {pair}: lexical {lexical_cosine(*pair):.3f}, minilm {cosine(*pair):.3f}")
    print(f"cosine ({pair[0]!r}, {other!r}): lexical {lexical_cosine(pair[0], other):.3f}, "
          f"minilm {cosine(pair[0], other):.3f}")  # fmt: skip
    print(f"peak resident memory {_peak_mb():.0f} MB")


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
