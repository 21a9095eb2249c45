"""Scripted replies: match a scenario's rules against a conversation, fill templates.

Templates are ``{{ path }}`` in the strings of a rule's text and tool arguments.
A path starts at one of

* ``last_user``: the text of the last user message,
* ``match.NAME`` / ``match.N``: a group of the rule's ``last_user_matches``,
* ``last_tool_result``: the content of the most recent tool result,
* ``tool_results.N``: the content of tool result N (0-based, negative from the end),
* ``turn``: the model call number,

and may go on with ``.json`` (parse the text as JSON) and then keys and list
indices (``last_tool_result.json.items.0.id``). A string that is one whole
placeholder takes the value's JSON type; otherwise values are interpolated (as
JSON for non-strings). A path that does not resolve makes the rule not match, so
a later rule can serve as a fallback.
"""

from __future__ import annotations

import json
import re
from typing import Any

from worksample.mockllm._model.conversation import Conversation, PlannedToolCall, Reply
from worksample.mockllm._scenario import Rule, ScriptedToolCall, When

__all__ = ["TemplateMiss", "match_rule", "render_template"]

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_MISSING = object()


class TemplateMiss(LookupError):
    """A template path that does not resolve against the conversation."""


def _step(value: Any, key: str) -> Any:
    if key == "json":
        if not isinstance(value, str):
            raise TemplateMiss(key)
        try:
            return json.loads(value)
        except ValueError as exc:
            raise TemplateMiss(key) from exc
    if isinstance(value, dict):
        if key not in value:
            raise TemplateMiss(key)
        return value[key]
    if isinstance(value, list | tuple):
        try:
            return value[int(key)]
        except (ValueError, IndexError) as exc:
            raise TemplateMiss(key) from exc
    raise TemplateMiss(key)


def _resolve(path: str, scope: dict[str, Any]) -> Any:
    keys = path.split(".")
    if keys[0] not in scope:
        raise TemplateMiss(path)
    value = scope[keys[0]]
    if value is _MISSING:
        raise TemplateMiss(path)
    for key in keys[1:]:
        value = _step(value, key)
    return value


def render_template(value: Any, scope: dict[str, Any]) -> Any:
    """`value` with every ``{{ path }}`` in its strings replaced (recursively)."""
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value.strip())
        if whole is not None and value.strip() == value:
            return _resolve(whole.group(1), scope)

        def _fill(match: re.Match[str]) -> str:
            found = _resolve(match.group(1), scope)
            return found if isinstance(found, str) else json.dumps(found)

        return _PLACEHOLDER.sub(_fill, value)
    if isinstance(value, dict):
        return {k: render_template(v, scope) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render_template(v, scope) for v in value]
    return value


def _matches(when: When, conversation: Conversation, provider: str) -> dict[str, Any] | None:
    """The template scope if `when` holds, else None."""
    results = conversation.tool_results
    last_user = conversation.last_user_text
    last_result = results[-1] if results else None
    checks = (
        when.turn is None or conversation.model_turn == when.turn,
        when.turn_at_least is None or conversation.model_turn >= when.turn_at_least,
        when.provider is None or provider == when.provider,
        when.model is None or conversation.model == when.model,
        when.tool_results is None or len(results) == when.tool_results,
        all(name in conversation.tools for name in when.tools_offered),
        when.last_user_contains is None or when.last_user_contains.lower() in last_user.lower(),
        when.last_tool_name is None
        or (last_result is not None and last_result.tool_name == when.last_tool_name),
        when.last_tool_result_contains is None
        or (
            last_result is not None
            and when.last_tool_result_contains.lower() in last_result.text.lower()
        ),
    )
    if not all(checks):
        return None
    groups: dict[str, Any] = {}
    if when.last_user_matches is not None:
        found = re.search(when.last_user_matches, last_user)
        if found is None:
            return None
        groups = {str(i): g for i, g in enumerate((found.group(0), *found.groups()))}
        groups.update(found.groupdict())
    return {
        "last_user": last_user,
        "match": groups,
        "last_tool_result": last_result.text if last_result is not None else _MISSING,
        "tool_results": [r.text for r in results],
        "turn": conversation.model_turn,
    }


def _planned(call: ScriptedToolCall, scope: dict[str, Any]) -> PlannedToolCall:
    name = str(render_template(call.name, scope))
    if call.raw_arguments is not None:
        raw = render_template(call.raw_arguments, scope)
        return PlannedToolCall(
            name=name, arguments=raw if isinstance(raw, str) else json.dumps(raw)
        )
    arguments = render_template(call.arguments or {}, scope)
    return PlannedToolCall(name=name, arguments=json.dumps(arguments, separators=(",", ":")))


def match_rule(
    rules: tuple[Rule, ...], conversation: Conversation, provider: str
) -> tuple[Rule, Reply] | None:
    """The first rule that matches and renders, with its reply.

    For a rule with ``extractive = true`` the reply's text is None: the caller
    fills in the extractive answer.
    """
    for rule in rules:
        scope = _matches(rule.when, conversation, provider)
        if scope is None:
            continue
        try:
            text = None if rule.reply.text is None else render_template(rule.reply.text, scope)
            calls = tuple(_planned(c, scope) for c in rule.reply.tool_calls)
        except TemplateMiss:
            continue
        if text is not None and not isinstance(text, str):
            text = json.dumps(text)
        return rule, Reply(text=text, tool_calls=calls, source=f"rule:{rule.name}")
    return None
