"""Scenarios: loading, validation messages, and scripted tool calls turn by turn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError
from worksample.mockllm import Scenario, load_scenario

if TYPE_CHECKING:
    from mockserve import MockServer

TOOLS = [
    {"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "fetch", "parameters": {"type": "object"}}},
]
AGENT_TOML = """
name = "research agent"

[[rules]]
name = "search first"
when = { turn = 1, tools_offered = ["search"], last_user_matches = "about (?P<topic>\\\\w+)" }
reply = { tool_calls = [{ name = "search", arguments = { q = "{{ match.topic }}", limit = 2 } }] }

[[rules]]
name = "fetch the top hit"
when = { last_tool_name = "search" }
[rules.reply]
tool_calls = [{ name = "fetch", arguments = { id = "{{ last_tool_result.json.hits.0.id }}" } }]

[[rules]]
name = "answer from the page"
when = { last_tool_name = "fetch" }
reply = { extractive = true }
"""


def _agent_loop(
    mock: MockServer, question: str, results: dict[str, Any], limit: int = 6
) -> list[Any]:
    """A typical candidate loop: call the model, run tools, stop on a plain answer."""
    messages: list[Any] = [{"role": "user", "content": question}]
    replies = []
    with mock.openai() as client:
        for _ in range(limit):
            done = client.chat.completions.create(
                model="gpt-4o-mini", messages=messages, tools=TOOLS
            )
            message = done.choices[0].message
            replies.append(message)
            if not message.tool_calls:
                break
            messages.append(message)
            for call in message.tool_calls:
                content = results.get(call.function.name, "unknown tool")
                messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
    return replies


def test_toml_scenario_drives_a_multi_step_agent(mock: MockServer, tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(AGENT_TOML)
    mock.load(load_scenario(path))
    results = {
        "search": json.dumps({"hits": [{"id": "doc-42"}, {"id": "doc-7"}]}),
        "fetch": "Otters hold hands while sleeping so they do not drift apart.",
    }
    replies = _agent_loop(mock, "Tell me about otters: why do they hold hands?", results)
    calls = [(c.function.name, json.loads(c.function.arguments)) for r in replies[:2]
             for c in r.tool_calls]  # fmt: skip
    assert calls == [("search", {"q": "otters", "limit": 2}), ("fetch", {"id": "doc-42"})]
    assert replies[2].content == "Otters hold hands while sleeping so they do not drift apart."
    sources = [r.reply_source for r in mock.admin.requests()]
    assert sources == ["rule:search first", "rule:fetch the top hit", "rule:answer from the page"]


def test_malformed_arguments_and_unknown_tools(mock: MockServer) -> None:
    mock.load({"rules": [
        {"name": "broken", "when": {"turn": 1},
         "reply": {"tool_calls": [{"name": "search", "raw_arguments": "{\"q\": \"unterminated"}]}},
        {"name": "ghost", "when": {"turn": 2},
         "reply": {"tool_calls": [{"name": "delete_everything", "arguments": {}}]}},
        {"name": "done", "reply": {"text": "Finished."}},
    ]})  # fmt: skip
    replies = _agent_loop(mock, "go", {"search": "ok"})
    assert replies[0].tool_calls[0].function.arguments == '{"q": "unterminated'
    assert replies[1].tool_calls[0].function.name == "delete_everything"
    assert replies[2].content == "Finished."
    second_request = mock.admin.requests()[2].body["messages"]
    assert second_request[-1] == {"role": "tool", "tool_call_id": replies[1].tool_calls[0].id,
                                  "content": "unknown tool"}  # fmt: skip


def test_a_model_that_loops_forever(mock: MockServer) -> None:
    mock.load({"rules": [{"name": "again", "reply": {"tool_calls": [{"name": "search"}]}}]})
    replies = _agent_loop(mock, "loop", {"search": "nothing"}, limit=5)
    assert len(replies) == 5 and all(r.tool_calls for r in replies)
    assert [r.body["messages"].__len__() for r in mock.admin.requests()] == [1, 3, 5, 7, 9]


def test_unresolved_template_falls_through_to_the_next_rule(mock: MockServer) -> None:
    mock.load({"rules": [
        {"name": "needs json", "when": {"tool_results": 1},
         "reply": {"text": "Total {{ last_tool_result.json.total }}"}},
        {"name": "fallback", "reply": {"text": "Could not read {{ tool_results.-1 }}"}},
    ]})  # fmt: skip
    with mock.openai() as client:
        call = {"id": "c1", "type": "function", "function": {"name": "search", "arguments": "{}"}}
        base = [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [call]}]
        good = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[*base, {"role": "tool", "tool_call_id": "c1", "content": '{"total": 3}'}],
        )
        bad = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[*base, {"role": "tool", "tool_call_id": "c1", "content": "oops"}],
        )
    assert good.choices[0].message.content == "Total 3"
    assert bad.choices[0].message.content == "Could not read oops"


def test_rules_apply_to_anthropic_too(mock: MockServer) -> None:
    mock.load({"rules": [{"name": "only claude", "when": {"provider": "anthropic"},
                          "reply": {"text": "Hello from the script."}}]})  # fmt: skip
    with mock.anthropic() as client:
        message = client.messages.create(
            model="claude-haiku-4-5", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
        )
    with mock.openai() as client:
        done = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert message.content[0].text == "Hello from the script."  # type: ignore[union-attr]
    assert done.choices[0].message.content != "Hello from the script."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rules": [{"name": "r", "reply": {}}]},
         "a reply needs 'text', 'tool_calls' or 'extractive = true'"),
        ({"rules": [{"name": "r", "when": {"last_user_matches": "("}, "reply": {"text": "x"}}]},
         "not a valid regular expression"),
        ({"rules": [{"name": "r", "reply": {"tool_calls": [
            {"name": "f", "arguments": {}, "raw_arguments": "{}"}]}}]},
         "give either 'arguments' or 'raw_arguments', not both"),
        ({"failures": [{"kind": "explode"}]}, "does not match any of the expected tags"),
        ({"failures": [{"kind": "error", "status": 200}]},
         "Input should be greater than or equal to 400"),
        ({"failures": [{"kind": "error", "status": 500, "calls": [0]}]},
         "Input should be greater than or equal to 1"),
        ({"rules": [{"name": "r", "when": {"turns": 1}, "reply": {"text": "x"}}]},
         "Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_invalid_scenarios_are_refused_with_a_reason(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Scenario.model_validate(data)


def test_json_scenario_files_load(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"name": "j", "failures": [{"kind": "slow", "delay_ms": 5}]}))
    scenario = load_scenario(path)
    assert scenario.name == "j" and scenario.failures[0].kind == "slow"


def test_scenario_models_extend_the_catalogue(mock: MockServer) -> None:
    mock.load({"models": [{"id": "tiny-model", "provider": "openai", "context_window": 32}]})
    with mock.openai() as client:
        assert "tiny-model" in [m.id for m in client.models.list()]
        done = client.chat.completions.create(
            model="tiny-model", messages=[{"role": "user", "content": "hello"}]
        )
    assert done.model == "tiny-model"
