"""Settings of one mock server: credentials, the starting scenario, log size."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from worksample.mockllm._scenario import Scenario
from worksample.mockllm._server.log import DEFAULT_LOG_BYTES, DEFAULT_LOG_LIMIT

__all__ = ["DEFAULT_API_KEY", "ENV_ADMIN_TOKEN", "ENV_API_KEY", "MockSettings"]

DEFAULT_API_KEY = "sk-mock-candidate"
ENV_API_KEY = "WORKSAMPLE_MOCKLLM_API_KEY"
ENV_ADMIN_TOKEN = "WORKSAMPLE_MOCKLLM_ADMIN_TOKEN"


class MockSettings(BaseModel):
    """How `create_app` sets a server up.

    `api_key` is what candidate code sends (``Authorization: Bearer`` for OpenAI,
    ``x-api-key`` or Bearer for Anthropic). `admin_token` guards ``/_admin``;
    without one the admin API is off (every admin path answers 404).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr = SecretStr(DEFAULT_API_KEY)
    admin_token: SecretStr | None = None
    scenario: Scenario = Scenario()
    log_limit: int = Field(default=DEFAULT_LOG_LIMIT, ge=1)
    """How many request records are kept (the oldest are dropped first)."""
    log_max_bytes: int = Field(default=DEFAULT_LOG_BYTES, ge=1)
    """How many bytes of request records are kept: request and response bodies plus
    1 KiB a record (the oldest are dropped first; the newest is always kept)."""
    shared_dir: Path | None = None
    """Set by ``serve --workers N``: the directory the workers share (scenario, call
    numbers, log); the scenario is then read from there."""

    @model_validator(mode="after")
    def _distinct_secrets(self) -> MockSettings:
        if not self.api_key.get_secret_value():
            raise ValueError("the API key must not be empty")
        if self.admin_token is not None:
            token = self.admin_token.get_secret_value()
            if len(token) < 8:
                raise ValueError("the admin token must be at least 8 characters long")
            if token == self.api_key.get_secret_value():
                raise ValueError("the admin token must differ from the candidate's API key")
        return self

    @classmethod
    def from_env(cls, **overrides: object) -> MockSettings:
        """Settings from ``WORKSAMPLE_MOCKLLM_API_KEY`` / ``..._ADMIN_TOKEN``, then `overrides`."""
        values: dict[str, object] = {}
        if key := os.environ.get(ENV_API_KEY):
            values["api_key"] = key
        if token := os.environ.get(ENV_ADMIN_TOKEN):
            values["admin_token"] = token
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
