"""Turn pydantic validation errors into the 400s each provider sends.

OpenAI names the parameter in its own notation (``messages[0].content``) with a
sentence and a code (``invalid_type``, ``missing_required_parameter`` ...);
Anthropic answers ``<dotted.path>: <reason>`` as an ``invalid_request_error``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from worksample.mockllm._wire.errors import MockError, Provider

__all__ = ["translate_validation_error"]

# Discriminator values of the request schemas: pydantic puts them in error
# locations, the providers do not.
_TAGS = frozenset(
    {
        "system", "developer", "user", "assistant", "tool", "function", "text", "refusal",
        "image_url", "input_audio", "file", "custom", "allowed_tools", "json_object",
        "json_schema", "image", "document", "tool_use", "tool_result", "thinking",
        "redacted_thinking",
    }
)  # fmt: skip
_UNION_FIELDS = frozenset({"response_format", "tool_choice"})
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a decimal",
    "float_parsing": "a decimal",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _clean(loc: tuple[int | str, ...]) -> list[int | str]:
    kept: list[int | str] = []
    for index, part in enumerate(loc):
        if isinstance(part, str):
            if "[" in part or part in ("str", "int", "float", "bool", "none"):
                continue
            before = loc[index - 1] if index else None
            if part in _TAGS and (isinstance(before, int) or before in _UNION_FIELDS):
                continue
        kept.append(part)
    return kept


def _openai_param(loc: list[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _openai_error(errors: list[ErrorDetails]) -> MockError:
    first = errors[0]
    loc = _clean(first["loc"])
    param = _openai_param(loc)
    kind, value, ctx = first["type"], first.get("input"), first.get("ctx") or {}
    if kind == "missing":
        return MockError(400, f"Missing required parameter: '{param}'.", param=param,
                         code="missing_required_parameter")  # fmt: skip
    if kind == "extra_forbidden":
        return MockError(400, f"Unrecognized request argument supplied: {param}", param=None)
    if kind in ("union_tag_invalid", "literal_error"):
        expected = ctx.get("expected_tags") or ctx.get("expected") or ""
        tag = ctx.get("tag", value)
        return MockError(400, f"Invalid value: '{tag}'. Supported values are: {expected}.",
                         param=param, code="invalid_value")  # fmt: skip
    if kind in _EXPECTED:
        same = [e for e in errors if _clean(e["loc"]) == loc and e["type"] in _EXPECTED]
        wanted = list(dict.fromkeys(_EXPECTED[e["type"]] for e in same))
        expected = wanted[0] if len(wanted) == 1 else "one of " + " or ".join(wanted)
        return MockError(
            400,
            f"Invalid type for '{param}': expected {expected}, but got {_kind_of(value)} instead.",
            param=param,
            code="invalid_type",
        )
    if kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than"):
        above = kind.startswith("less")
        bound = ctx.get("le", ctx.get("lt")) if above else ctx.get("ge", ctx.get("gt"))
        number = "decimal" if isinstance(bound, float) else "integer"
        side = "above maximum" if above else "below minimum"
        sign = "<=" if above else ">="
        return MockError(
            400,
            f"Invalid '{param}': {number} {side} value. "
            f"Expected a value {sign} {bound:g}, but got {value} instead.",
            param=param,
            code=f"{number}_{'above_max' if above else 'below_min'}_value",
        )
    if kind == "too_short" and value == []:
        return MockError(
            400,
            f"Invalid '{param}': empty array. Expected an array with minimum length "
            f"{ctx.get('min_length', 1)}, but got an empty array instead.",
            param=param,
            code="empty_array",
        )
    message = str(ctx.get("error", first["msg"])) if kind == "value_error" else first["msg"]
    return MockError(400, f"Invalid '{param}': {message}.", param=param, code="invalid_value")


def translate_validation_error(exc: ValidationError, provider: Provider) -> MockError:
    """The provider's 400 for the first problem pydantic found."""
    errors = exc.errors(include_url=False)
    if not errors[0]["loc"]:
        return MockError(400, "The request body must be a JSON object.")
    if provider == "openai":
        return _openai_error(errors)
    first = errors[0]
    path = ".".join(str(p) for p in _clean(first["loc"]))
    return MockError(400, f"{path}: {first['msg']}" if path else first["msg"])
