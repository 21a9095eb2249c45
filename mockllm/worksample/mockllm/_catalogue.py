"""The model catalogue: which model names the mock serves, and their limits."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from worksample.mockllm._wire.errors import MockError, Provider

__all__ = ["DEFAULT_MODELS", "ModelSpec", "build_catalogue", "find_model"]


class ModelSpec(BaseModel):
    """One model the mock serves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    provider: Literal["openai", "anthropic"]
    kind: Literal["chat", "embedding"] = "chat"
    context_window: int = Field(default=128_000, ge=16)
    """Chat: prompt plus completion tokens. Embedding: tokens per input."""
    max_output_tokens: int = Field(default=16_384, ge=1)
    dimensions: int = Field(default=1536, ge=8, le=4096)
    """Embedding models only: length of the vectors."""
    owned_by: str = "system"
    created: int = 1_700_000_000


def _chat(name: str, provider: Literal["openai", "anthropic"], window: int, out: int) -> ModelSpec:
    owner = "system" if provider == "openai" else "anthropic"
    return ModelSpec(
        id=name, provider=provider, context_window=window, max_output_tokens=out, owned_by=owner
    )


def _embed(name: str, dims: int) -> ModelSpec:
    return ModelSpec(
        id=name, provider="openai", kind="embedding", context_window=8192, dimensions=dims
    )


DEFAULT_MODELS: tuple[ModelSpec, ...] = (
    _chat("gpt-4o-mini", "openai", 128_000, 16_384),
    _chat("gpt-4o", "openai", 128_000, 16_384),
    _chat("gpt-4.1-mini", "openai", 1_047_576, 32_768),
    _chat("gpt-4.1", "openai", 1_047_576, 32_768),
    _chat("mock-gpt-small", "openai", 2_048, 512),
    _embed("text-embedding-3-small", 1536),
    _embed("text-embedding-3-large", 3072),
    _embed("mock-embedding-small", 256),
    _chat("claude-haiku-4-5", "anthropic", 200_000, 64_000),
    _chat("claude-sonnet-4-5", "anthropic", 200_000, 64_000),
    _chat("claude-3-5-haiku-latest", "anthropic", 200_000, 8_192),
    _chat("mock-claude-small", "anthropic", 2_048, 512),
)
"""Served unless a scenario replaces or extends them (by id)."""


def build_catalogue(extra: tuple[ModelSpec, ...] = ()) -> dict[str, ModelSpec]:
    """The default models, overridden and extended by `extra` (matched by id)."""
    models = {spec.id: spec for spec in DEFAULT_MODELS}
    for spec in extra:
        models[spec.id] = spec
    return models


def find_model(
    catalogue: dict[str, ModelSpec], name: str, kind: str, provider: Provider
) -> ModelSpec:
    """The entry of `name` for `provider`, or that provider's error for a wrong model."""
    spec = catalogue.get(name)
    if spec is None or spec.provider != provider:
        if provider == "anthropic":
            raise MockError(404, f"model: {name}")
        raise MockError(
            404,
            f"The model `{name}` does not exist or you do not have access to it.",
            code="model_not_found",
        )
    if spec.kind != kind:
        what = "a chat model" if kind == "chat" else "an embedding model"
        raise MockError(
            400, f"The model `{name}` is not {what}.", param="model", code="invalid_value"
        )
    return spec
