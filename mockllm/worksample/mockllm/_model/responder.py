"""Decide the reply to a conversation: scripted rule, live injection, or extractive answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from worksample.mockllm._model.conversation import Conversation, Reply
from worksample.mockllm._model.extractive import answer_question, find_injection, read_turns
from worksample.mockllm._model.rules import match_rule
from worksample.mockllm._model.tokenizer import count_tokens, truncate_tokens
from worksample.mockllm._scenario import Scenario

__all__ = ["Completion", "complete", "decide_reply"]


def _json_answer(reply: Reply, refusal: str) -> Reply:
    text = reply.text or ""
    for cited in reply.citations:
        text = text.removesuffix(f" [{cited}]")
    answer = None if reply.source == "extractive" and text == refusal else text
    body = json.dumps({"answer": answer, "citations": list(reply.citations)})
    return Reply(text=body, source=reply.source, citations=reply.citations)


def decide_reply(conversation: Conversation, scenario: Scenario, provider: str) -> Reply:
    """The reply, in this order: the first matching rule; a live prompt injection
    (when the scenario's extractive model obeys them); the extractive answer.

    In JSON mode (OpenAI ``response_format``) injected and extractive replies
    become ``{"answer": ..., "citations": [...]}`` with ``answer`` null for a
    refusal; rule texts are sent as written.
    """
    config = scenario.extractive
    matched = match_rule(scenario.rules, conversation, provider)
    if matched is not None:
        rule, reply = matched
        if not rule.reply.extractive:
            return reply
        answer = answer_question(conversation, config, read_turns(conversation))
        if conversation.json_mode:
            answer = _json_answer(answer, config.refusal)
        return Reply(
            text=answer.text,
            tool_calls=reply.tool_calls,
            source=reply.source,
            citations=answer.citations,
        )
    readings = read_turns(conversation)
    payload = find_injection(conversation, readings) if config.injection else None
    if payload is not None:
        reply = Reply(text=payload, source="injection")
    else:
        reply = answer_question(conversation, config, readings)
    return _json_answer(reply, config.refusal) if conversation.json_mode else reply


@dataclass(frozen=True, slots=True)
class Completion:
    """A reply cut to the request's limits, with its token count."""

    reply: Reply
    text: str | None
    finish: Literal["stop", "length", "stop_sequence", "tool_calls"]
    stop_sequence: str | None
    completion_tokens: int


def complete(reply: Reply, *, max_tokens: int | None, stop: tuple[str, ...]) -> Completion:
    """Apply stop sequences, then `max_tokens`, and count the completion tokens.

    Tool calls are never cut; they count as the tokens of their name and arguments.
    """
    text = reply.text
    finish: Literal["stop", "length", "stop_sequence", "tool_calls"] = "stop"
    hit: str | None = None
    if text is not None and stop:
        cuts = [(text.find(s), s) for s in stop if s and s in text]
        if cuts:
            position, hit = min(cuts)
            text = text[:position]
            finish = "stop_sequence"
    tokens = count_tokens(text) if text else 0
    if text is not None and max_tokens is not None and tokens > max_tokens:
        text = truncate_tokens(text, max_tokens)
        tokens = count_tokens(text)
        finish, hit = "length", None
    for call in reply.tool_calls:
        tokens += count_tokens(call.name) + count_tokens(call.arguments)
    if reply.tool_calls and finish != "length":
        finish, hit = "tool_calls", None
    return Completion(
        reply=reply, text=text, finish=finish, stop_sequence=hit, completion_tokens=tokens
    )
