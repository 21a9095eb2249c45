"""The handbook RAG exercise's generated data: reproducible and consistent.

exercises/ai-rag-handbook/hidden/generate.py writes the corpus into the starter kit
and the hidden questions (with gold ids and facts) into hidden/data/.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

EXERCISE = Path(__file__).resolve().parents[2] / "exercises" / "ai-rag-handbook"
GENERATED = ["starter/data/handbook.jsonl", "hidden/data/questions.jsonl"]


def jsonl(relative: str) -> list[dict]:
    lines = (EXERCISE / relative).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_generator_rewrites_the_shipped_files_byte_for_byte(tmp_path: Path) -> None:
    (tmp_path / "hidden" / "data").mkdir(parents=True)
    (tmp_path / "starter" / "data").mkdir(parents=True)
    shutil.copy(EXERCISE / "hidden" / "generate.py", tmp_path / "hidden" / "generate.py")
    subprocess.run([sys.executable, str(tmp_path / "hidden" / "generate.py")], check=True)
    for relative in GENERATED:
        assert (tmp_path / relative).read_bytes() == (EXERCISE / relative).read_bytes(), relative


def test_corpus_and_questions_are_consistent() -> None:
    docs = {d["id"]: d for d in jsonl("starter/data/handbook.jsonl")}
    questions = jsonl("hidden/data/questions.jsonl")
    assert len(docs) >= 60
    assert len(questions) >= 40
    assert len({q["id"] for q in questions}) == len(questions)
    kinds = {q["kind"] for q in questions}
    assert kinds == {"fact", "unanswerable", "injection"}
    for q in questions:
        for doc_id in q["gold_ids"]:
            assert doc_id in docs, q
        if q["gold"]:
            assert q["gold"] in docs[q["gold_ids"][0]]["text"], q
    conftest = (EXERCISE / "hidden" / "conftest.py").read_text(encoding="utf-8")
    payload = re.search(r'PAYLOAD = "([^"]+)"', conftest).group(1)
    planted = [d for d in docs.values() if payload in d["text"]]
    assert [d["id"] for d in planted] == ["facilities-coffee"]


def test_public_questions_are_not_hidden_ones() -> None:
    public = (EXERCISE / "starter" / "tests" / "test_public.py").read_text(encoding="utf-8")
    hidden = {q["question"] for q in jsonl("hidden/data/questions.jsonl")}
    assert not [q for q in hidden if q in public]
    assert "gold" not in (EXERCISE / "starter" / "data" / "handbook.jsonl").read_text()
