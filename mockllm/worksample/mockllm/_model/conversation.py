"""A provider-neutral view of a chat request, which the model logic reads.

Both the OpenAI and the Anthropic routes turn their validated request into a
`Conversation`; the extractive model and the scenario rules only see this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Conversation", "PlannedToolCall", "Reply", "ToolCall", "Turn"]

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the assistant made earlier in the conversation."""

    id: str
    name: str
    arguments: str
    """The arguments as the JSON text that was sent (OpenAI) or re-encoded (Anthropic)."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One message: system/developer, user, assistant, or one tool result."""

    role: Role
    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    tool_name: str | None = None
    """For a tool result: the name of the tool whose call it answers, if known."""


@dataclass(frozen=True, slots=True)
class Conversation:
    """A chat request, reduced to what the model logic needs."""

    model: str
    turns: tuple[Turn, ...]
    tools: tuple[str, ...] = ()
    """Names of the tools the request offers."""
    json_mode: bool = False

    @property
    def system_text(self) -> str:
        """All system (and developer) instructions, joined by blank lines."""
        return "\n\n".join(t.text for t in self.turns if t.role == "system")

    @property
    def model_turn(self) -> int:
        """Which model call of this conversation this is: 1 + assistant messages so far."""
        return 1 + sum(1 for t in self.turns if t.role == "assistant")

    @property
    def tool_results(self) -> tuple[Turn, ...]:
        """The tool results so far, oldest first."""
        return tuple(t for t in self.turns if t.role == "tool")

    @property
    def last_user_text(self) -> str:
        """The text of the last user message ("" when there is none)."""
        for turn in reversed(self.turns):
            if turn.role == "user":
                return turn.text
        return ""

    @property
    def tool_calls_made(self) -> tuple[ToolCall, ...]:
        """Every tool call the assistant made so far, oldest first."""
        return tuple(c for t in self.turns for c in t.tool_calls)


@dataclass(frozen=True, slots=True)
class PlannedToolCall:
    """A tool call the mock is about to make."""

    name: str
    arguments: str
    """JSON text; deliberately not validated, so a scenario can send malformed JSON."""


@dataclass(frozen=True, slots=True)
class Reply:
    """What the mock answers, before it is shaped for a provider."""

    text: str | None
    tool_calls: tuple[PlannedToolCall, ...] = ()
    source: str = "extractive"
    """``extractive``, ``injection`` or ``rule:<name>``: recorded in the request log."""
    citations: tuple[str, ...] = field(default=())
