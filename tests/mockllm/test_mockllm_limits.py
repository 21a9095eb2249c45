"""What a candidate sends cannot fill the mock's memory: bodies are capped, and
the memos keyed by the candidate's text keep only short texts."""

from __future__ import annotations

import anthropic
import openai
import pytest
from mockserve import MockServer
from worksample.mockllm._model.embeddings import EMBED_MEMO_CHARS, embedding_json
from worksample.mockllm._model.extractive import PASSAGE_MEMO_CHARS, _passage, _stats_memo
from worksample.mockllm._model.memo import memo_short
from worksample.mockllm._server.exchange import MAX_BODY_BYTES

TOO_LARGE = f"The request body is larger than {MAX_BODY_BYTES >> 20} MiB."


def test_an_oversized_body_is_refused_in_each_providers_shape(mock: MockServer) -> None:
    huge = "word " * (MAX_BODY_BYTES // 5 + 1)
    with pytest.raises(openai.APIStatusError) as raised:
        mock.openai().chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": huge}]
        )
    assert raised.value.status_code == 413
    assert raised.value.body == {
        "message": TOO_LARGE,
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    with pytest.raises(anthropic.APIStatusError) as refused:
        mock.anthropic().messages.create(
            model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": huge}]
        )
    assert refused.value.status_code == 413
    assert refused.value.body["error"] == {"type": "request_too_large", "message": TOO_LARGE}
    logged = [r for r in mock.admin.requests() if r.status == 413]
    assert len(logged) == 2 and all(r.body is None for r in logged)


def test_a_chunked_body_is_cut_off_at_the_cap(mock: MockServer) -> None:
    piece = b"x" * (1 << 20)
    chunks = (piece for _ in range((MAX_BODY_BYTES >> 20) + 2))
    with mock.http(**{"content-type": "application/json"}) as http:
        answer = http.post("/v1/chat/completions", content=chunks)
    assert answer.status_code == 413
    assert answer.json()["error"]["message"] == TOO_LARGE


def test_long_texts_are_computed_but_never_memoised() -> None:
    long_passage = "The glacier moves slowly. " * (PASSAGE_MEMO_CHARS // 26 + 10)
    before = _stats_memo.cache_info().currsize
    counts, total, _ = _passage(None, long_passage, True).stats
    assert counts["glacier"] == long_passage.count("glacier") and total > 0
    assert _stats_memo.cache_info().currsize == before
    short = "The glacier moves slowly."
    assert _passage(None, short, True).stats == _passage("x", short, False).stats
    assert _stats_memo.cache_info().currsize == before + 1
    long_text = "embed me " * (EMBED_MEMO_CHARS // 9 + 10)
    size = embedding_json.memo.cache_info().currsize  # type: ignore[attr-defined]
    assert embedding_json(long_text, 8) == embedding_json(long_text, 8)
    assert embedding_json.memo.cache_info().currsize == size  # type: ignore[attr-defined]


def test_memo_short_gives_the_same_answers_either_way() -> None:
    calls: list[str] = []

    @memo_short(4, max_chars=3)
    def shout(text: str, times: int) -> str:
        calls.append(text)
        return text.upper() * times

    assert [shout("ab", 2), shout("ab", 2), shout("abcd", 1), shout("abcd", 1)] == [
        "ABAB", "ABAB", "ABCD", "ABCD",
    ]  # fmt: skip
    assert calls == ["ab", "abcd", "abcd"]
