"""BM25 search over the handbook with bm25s."""

import json
from pathlib import Path

import bm25s

HANDBOOK = Path(__file__).resolve().parent.parent / "data" / "handbook.jsonl"


class Search:
    def __init__(self, path=HANDBOOK):
        with open(path, encoding="utf-8") as f:
            self.pages = [json.loads(line) for line in f if line.strip()]
        corpus = [p["title"] + " " + p["text"] for p in self.pages]
        self.retriever = bm25s.BM25()
        self.retriever.index(
            bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False
        )

    def top(self, question, k=4):
        tokens = bm25s.tokenize([question], stopwords="en", show_progress=False)
        ids, scores = self.retriever.retrieve(tokens, k=k, show_progress=False)
        return [self.pages[i] for i, s in zip(ids[0], scores[0], strict=True) if s > 0]
