"""The request log stays bounded by count and by bytes, in one process and across workers."""

from __future__ import annotations

import gc
import json
import time
from pathlib import Path

import httpx
from mockserve import ADMIN_TOKEN, API_KEY, serving
from worksample.mockllm import MockLLMAdmin, MockSettings, Scenario
from worksample.mockllm._server.log import RECORD_OVERHEAD, LogEntry, RequestLog
from worksample.mockllm._server.shared import SharedLog, init_shared_dir


def _request(log: RequestLog | SharedLog, body: bytes, *, close: bool = True) -> LogEntry:
    entry = log.open(endpoint="embeddings", method="POST", path="/v1/embeddings", headers=[],
                     auth_ok=True)  # fmt: skip
    entry.body_json = body
    entry.size += len(body)
    entry.status = 200
    if close:
        log.close(entry, started=time.perf_counter())
    return entry


def _body(size: int) -> bytes:
    return json.dumps({"input": "x" * (size - 13)}).encode()


def test_oldest_records_go_first_past_the_count() -> None:
    log = RequestLog(limit=3)
    for _ in range(5):
        _request(log, b"{}")
    assert [r.seq for r in log.records()] == [3, 4, 5]


def test_oldest_records_go_first_past_the_bytes() -> None:
    record = RECORD_OVERHEAD + 1_000
    log = RequestLog(limit=100, max_bytes=3 * record)
    for _ in range(5):
        _request(log, _body(1_000))
    assert [r.seq for r in log.records()] == [3, 4, 5]
    assert log.size == 3 * record
    assert log.records()[0].body == {"input": "x" * 987}


def test_the_newest_record_is_kept_even_if_alone_too_large() -> None:
    log = RequestLog(limit=100, max_bytes=2_000)
    _request(log, b"{}")
    _request(log, _body(10_000))
    assert [r.seq for r in log.records()] == [2]


def test_a_stream_dropped_while_open_is_not_counted_when_it_ends() -> None:
    record = RECORD_OVERHEAD + 1_000
    log = RequestLog(limit=100, max_bytes=2 * record)
    stream = _request(log, _body(1_000), close=False)
    for _ in range(3):
        _request(log, _body(1_000))
    assert [r.seq for r in log.records()] == [3, 4]
    log.close(stream, started=time.perf_counter())
    assert log.size == 2 * record
    log.clear()
    assert log.size == 0 and log.records() == []


def test_a_flood_of_large_requests_keeps_the_server_log_within_its_bytes() -> None:
    settings = MockSettings(api_key=API_KEY, admin_token=ADMIN_TOKEN, log_max_bytes=100_000)
    with serving(settings) as url, MockLLMAdmin(url, ADMIN_TOKEN) as admin:
        admin.load_scenario(Scenario())
        text = "word " * 4_000  # 20 kB a request
        headers = {"authorization": f"Bearer {API_KEY}"}
        with httpx.Client(base_url=url, headers=headers, timeout=10) as http:
            for _ in range(20):
                body = {"model": "text-embedding-3-small", "input": text}
                assert http.post("/v1/embeddings", json=body).status_code == 200
        kept = admin.requests()
        assert 2 <= len(kept) <= 4
        assert kept[-1].seq == 20 and kept[-1].body["input"] == text
        assert admin.counters().requests == 20


def test_workers_keep_their_files_and_the_merged_log_within_the_bytes(tmp_path: Path) -> None:
    init_shared_dir(tmp_path, Scenario())
    log = SharedLog(tmp_path, limit=1_000, max_bytes=20_000)
    for _ in range(30):
        _request(log, _body(2_000))
    (own,) = tmp_path.glob("log-*.jsonl")
    assert own.stat().st_size <= 20_000
    kept = log.records()
    assert 3 <= len(kept) <= 10
    assert kept[-1].seq == 30 and kept[-1].body == json.loads(_body(2_000))
    assert [r.seq for r in kept] == list(range(31 - len(kept), 31))
    assert log.counters().requests == 30


def test_a_kept_record_gives_the_garbage_collector_nothing_to_walk() -> None:
    # A full collection walks every object the collector tracks. Records that held the
    # parsed response, a usage model and a header dict made one of those walks come
    # every ~1,200 requests (35-70 ms each); an answered request's record now holds
    # bytes, numbers and tuples only. (An error's record keeps its parsed error body:
    # errors are few.)
    from starlette.testclient import TestClient
    from worksample.mockllm import create_app

    app = create_app(MockSettings(api_key=API_KEY))
    corpus = '<doc id="a">Paris is the capital of France.</doc> What is the capital of France?'
    with TestClient(app) as client:
        auth = {"authorization": f"Bearer {API_KEY}"}
        chat = client.post(
            "/v1/chat/completions",
            headers=auth,
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": corpus}]},
        )
        embedded = client.post("/v1/embeddings", headers=auth, json={
            "model": "text-embedding-3-small", "input": ["a", "b"]})  # fmt: skip
    assert (chat.status_code, embedded.status_code) == (200, 200)
    gc.collect()
    gc.collect()  # a tuple is let go once the tuples in it were (one pass each)
    kept = app.state.mock.log._records
    assert len(kept) == 2
    for entry in kept:
        held = [o for o in gc.get_referents(entry) if o is not LogEntry]  # not its class
        assert [type(o).__name__ for o in held if gc.is_tracked(o)] == []
    # ... and reading the log still gives the parsed bodies, the usage, the headers.
    first = app.state.mock.log.records()[0]
    assert first.response == chat.json()
    assert first.usage is not None
    assert first.usage.total_tokens == chat.json()["usage"]["total_tokens"]
    assert first.headers["authorization"] == "<redacted>"
