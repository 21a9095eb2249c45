"""A small BM25 index over the handbook (title + text), built in memory at start-up."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "data" / "handbook.jsonl"
STOP = frozenset(
    "a an the and or of to in on at for from by with without is are was were be been being do does did "
    "how what when where which who whom whose why can could may might must shall should will would "
    "i you he she it we they me my our your their this that these those there here than then as into "
    "about above after before under over up down out not no yes if so too very per each every any all "
    "much many often long".split()
)
RETIRED = re.compile(r"\b(ARCHIVED|OUTDATED|superseded)\b")


def terms(text: str) -> list[str]:
    out = []
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in STOP:
            continue
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 3 and word.endswith("s") and word[-2] not in "sui":
            word = word[:-1]
        out.append(word)
    return out


def load_corpus(path: Path = CORPUS) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class Index:
    def __init__(self, docs: list[dict], k1: float = 1.2, b: float = 0.75) -> None:
        # Archived/outdated versions are kept out of the index: they only contradict current policy.
        self.docs = [d for d in docs if not RETIRED.search(d["title"] + " " + d["text"][:40])]
        self.tfs = [Counter(terms(d["title"] + " " + d["text"])) for d in self.docs]
        self.lengths = [sum(tf.values()) for tf in self.tfs]
        self.avg = sum(self.lengths) / max(len(self.lengths), 1)
        df = Counter(t for tf in self.tfs for t in tf)
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.k1, self.b = k1, b

    def search(self, query: str, k: int = 4) -> list[dict]:
        q = set(terms(query))
        scored = []
        for i, tf in enumerate(self.tfs):
            s = 0.0
            norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg)
            for t in q:
                f = tf.get(t, 0)
                if f:
                    s += self.idf[t] * f * (self.k1 + 1) / (f + norm)
            if s > 0:
                scored.append((s, i))
        scored.sort(key=lambda x: (-x[0], x[1]))
        return [self.docs[i] for _, i in scored[:k]]
