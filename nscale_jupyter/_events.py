"""Typed stream events. Each carries the ``index`` of its choice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._results import ChatResult, TokenLogprob, Usage

__all__ = [
    "ChoiceFinished",
    "ContentDelta",
    "LogprobsDelta",
    "ReasoningDelta",
    "StreamDone",
    "StreamEvent",
    "ToolCallDelta",
    "UsageUpdate",
    "result_events",
]


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """Answer text."""

    index: int
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """Reasoning ("thinking") text, from ``reasoning`` or ``reasoning_content``."""

    index: int
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of tool call ``tool_index``: id and name when they arrive, an argument fragment."""

    index: int
    tool_index: int
    id: str | None
    name: str | None
    arguments: str


@dataclass(frozen=True, slots=True)
class LogprobsDelta:
    """Logprobs of the tokens behind one chunk."""

    index: int
    tokens: Sequence[TokenLogprob]


@dataclass(frozen=True, slots=True)
class UsageUpdate:
    """Token usage (the final totals, or running counts with continuous usage)."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class ChoiceFinished:
    """A choice ended."""

    index: int
    finish_reason: str
    stop_reason: str | int | None


@dataclass(frozen=True, slots=True)
class StreamDone:
    """The last event: the complete result, the same object ``chat()`` returns."""

    result: ChatResult


StreamEvent = (
    ContentDelta
    | ReasoningDelta
    | ToolCallDelta
    | LogprobsDelta
    | UsageUpdate
    | ChoiceFinished
    | StreamDone
)


def result_events(result: ChatResult) -> list[StreamEvent]:
    """The events a finished result would stream, in order: how a stored or
    whole reply is rendered by the same code as a live stream."""
    events: list[StreamEvent] = []
    for c in result.choices:
        if c.reasoning:
            events.append(ReasoningDelta(c.index, c.reasoning))
        if c.content:
            events.append(ContentDelta(c.index, c.content))
        for call in c.tool_calls:
            events.append(ToolCallDelta(c.index, call.index, call.id, call.name, call.arguments))
        if c.logprobs:
            events.append(LogprobsDelta(c.index, c.logprobs))
        if c.finish_reason is not None:
            events.append(ChoiceFinished(c.index, c.finish_reason, c.stop_reason))
    if result.usage is not None:
        events.append(UsageUpdate(result.usage))
    events.append(StreamDone(result))
    return events
