"""Provider-shaped errors: one exception, rendered as OpenAI's or Anthropic's body."""

from __future__ import annotations

from typing import Any, Literal

__all__ = [
    "MockError",
    "Provider",
    "anthropic_error_body",
    "anthropic_type_for",
    "openai_error_body",
    "openai_type_for",
]

Provider = Literal["openai", "anthropic"]

_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "requests",
}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    409: "invalid_request_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def openai_type_for(status: int) -> str:
    """OpenAI's `error.type` for an HTTP status."""
    return _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def anthropic_type_for(status: int) -> str:
    """Anthropic's `error.type` for an HTTP status."""
    return _ANTHROPIC_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


class MockError(Exception):
    """An error the mock answers with, in the shape of the provider that was called.

    `message` is what both providers show; `param` and `code` only appear in
    OpenAI bodies. `error_type` overrides the type derived from the status.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        error_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.error_type = error_type
        self.headers = dict(headers or {})

    def body(self, provider: Provider, request_id: str) -> dict[str, Any]:
        """The JSON body for `provider`."""
        if provider == "openai":
            return openai_error_body(
                self.message,
                error_type=self.error_type or openai_type_for(self.status),
                param=self.param,
                code=self.code,
            )
        return anthropic_error_body(
            self.message,
            error_type=self.error_type or anthropic_type_for(self.status),
            request_id=request_id,
        )


def openai_error_body(
    message: str, *, error_type: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """``{"error": {message, type, param, code}}``, as OpenAI sends it."""
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def anthropic_error_body(message: str, *, error_type: str, request_id: str) -> dict[str, Any]:
    """``{"type": "error", "error": {type, message}, "request_id": ...}``, as Anthropic sends it."""
    return {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    }
