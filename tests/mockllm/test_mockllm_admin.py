"""The admin side: hidden from the candidate's key, and what it reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
from worksample.mockllm import MockLLMAdmin, Scenario

if TYPE_CHECKING:
    from mockserve import MockServer


@pytest.mark.parametrize("authorization", ["candidate key", "", "Bearer wrong-admin-token"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/_admin/requests"), ("GET", "/_admin/counters"), ("POST", "/_admin/reset"),
     ("POST", "/_admin/scenario"), ("GET", "/_admin/scenario")],
)  # fmt: skip
def test_admin_routes_are_unreachable_without_the_admin_token(
    mock: MockServer, method: str, path: str, authorization: str
) -> None:
    if authorization == "candidate key":
        authorization = f"Bearer {mock.api_key}"
    headers = {"authorization": authorization} if authorization else {}
    response = httpx.request(method, mock.url + path, headers=headers, json={})
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})
    unknown = httpx.get(mock.url + "/_admin/nothing-here")
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Not Found"})


def test_candidate_traffic_does_not_change_with_admin_token_as_key(mock: MockServer) -> None:
    with mock.http(authorization=f"Bearer {mock.admin_token}") as http:
        response = http.get("/v1/models")
    assert response.status_code == 401


def test_request_log_records_what_was_sent_and_returned(mock: MockServer) -> None:
    with mock.openai() as client:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Hi"}],
            extra_headers={"x-trace": "abc"},
        )
    (record,) = mock.admin.requests()
    assert (record.seq, record.call, record.endpoint) == (1, 1, "chat.completions")
    assert (record.method, record.path, record.status) == ("POST", "/v1/chat/completions", 200)
    assert record.headers["authorization"] == "<redacted>"
    assert record.headers["x-trace"] == "abc"
    assert record.headers["user-agent"].startswith("OpenAI/Python")
    assert record.body == {"messages": [{"role": "user", "content": "Hi"}], "model": "gpt-4o-mini"}
    assert record.response["object"] == "chat.completion"
    assert record.usage is not None and record.usage.prompt_tokens == 8
    assert record.reply_source == "extractive" and record.auth_ok and record.completed
    assert record.duration_ms > 0 and record.started_at > 0
    assert record.request_id == "req_00000001"


def test_rejected_and_unauthenticated_requests_are_logged_too(mock: MockServer) -> None:
    httpx.post(mock.url + "/v1/chat/completions", json={"model": "x"})
    with mock.http() as http:
        http.post("/v1/chat/completions", json={"model": "gpt-4o-mini"})
    first, second = mock.admin.requests()
    assert (first.status, first.auth_ok, first.body) == (401, False, None)
    assert (second.status, second.auth_ok) == (400, True)
    assert second.error["error"]["code"] == "missing_required_parameter"


def test_counters_filters_and_reset(mock: MockServer) -> None:
    with mock.openai() as client:
        client.models.list()
        client.embeddings.create(model="mock-embedding-small", input=["a b", "c"],
                                 encoding_format="float")  # fmt: skip
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
        )
    counters = mock.admin.counters()
    assert counters.requests == 3
    assert counters.by_endpoint == {"models": 1, "embeddings": 1, "chat.completions": 1}
    assert counters.by_status == {"200": 3}
    assert counters.prompt_tokens == 3 + 8
    assert [r.endpoint for r in mock.admin.requests(endpoint="embeddings")] == ["embeddings"]
    assert [r.seq for r in mock.admin.requests(since=2)] == [3]
    embedding = mock.admin.requests(endpoint="embeddings")[0].response["data"][0]
    assert embedding["embedding"] == "<256 floats>"
    mock.admin.reset()
    assert mock.admin.requests() == [] and mock.admin.counters().requests == 0


def test_scenario_round_trip_and_invalid_scenarios(mock: MockServer) -> None:
    scenario = Scenario.model_validate(
        {"name": "custom", "rules": [{"name": "r", "reply": {"text": "fixed"}}]}
    )
    mock.admin.load_scenario(scenario)
    assert mock.admin.scenario() == scenario
    response = httpx.post(
        mock.url + "/_admin/scenario",
        headers={"authorization": f"Bearer {mock.admin_token}"},
        json={"rules": [{"name": "r", "reply": {}}]},
    )
    assert response.status_code == 422
    assert "a reply needs 'text', 'tool_calls' or 'extractive = true'" in response.text
    assert mock.admin.scenario() == scenario


def test_admin_client_reports_http_errors(mock: MockServer) -> None:
    with (
        MockLLMAdmin(mock.url, "not-the-admin-token") as admin,
        pytest.raises(httpx.HTTPStatusError),
    ):
        admin.counters()
