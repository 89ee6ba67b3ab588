"""What a turn emits, in order, and how it ended::

    RoundStarted(n, request)     a request goes out (0, then one per tool round)
    RetryNotice                  the client waits to retry
    ContentDelta ... StreamDone  the reply (a whole response replayed as the same events)
    ToolStarted / ToolFinished   a call the model made runs, and what it gave
    ToolsPending                 calls left for a person (``%chat tool-result``)
    TurnNotice                   one line for the user (round limit, unanswered calls)
    TurnEnded(outcome)           always last: how the turn ended, what was recorded

The faces and the display read these; only the turn engine (``_turn``) makes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._events import StreamEvent
from ._exceptions import NscaleError
from ._results import ChatResult
from ._retry import RetryNotice
from ._types import ChatRequest, Message, ToolCall

if TYPE_CHECKING:
    from ._tools import ToolOutcome

__all__ = [
    "RoundStarted",
    "ToolFinished",
    "ToolStarted",
    "ToolsPending",
    "TurnEnded",
    "TurnEvent",
    "TurnNotice",
    "TurnOutcome",
]


@dataclass(frozen=True)
class RoundStarted:
    """Request number ``round`` of the turn goes out."""

    round: int
    request: ChatRequest


@dataclass(frozen=True)
class ToolStarted:
    call: ToolCall


@dataclass(frozen=True)
class ToolFinished:
    """A call ran (``outcome.ok``), failed, or was interrupted."""

    outcome: ToolOutcome


@dataclass(frozen=True)
class ToolsPending:
    """Calls left for a person to answer, in ``thread``."""

    calls: tuple[ToolCall, ...]
    thread: str | None


@dataclass(frozen=True)
class TurnNotice:
    text: str


@dataclass(frozen=True)
class TurnOutcome:
    """How a turn ended: the last reply, every round, what was recorded."""

    thread: str | None
    result: ChatResult | None  # the last round's result (partial when cut off)
    rounds: tuple[ChatResult, ...] = ()
    added: tuple[Message, ...] = ()  # the turn's messages (recorded when record=True)
    outcomes: tuple[ToolOutcome, ...] = ()
    pending: tuple[ToolCall, ...] = ()
    cut_off: str | None = None  # why it ended early: "interrupted" or the error's message
    error: NscaleError | None = None
    limit_reached: bool = False
    recorded: bool = False
    #: The thread's messages before this turn (where "keep" puts a rerun).
    base: tuple[Message, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class TurnEnded:
    outcome: TurnOutcome


TurnEvent = (
    RoundStarted
    | StreamEvent
    | RetryNotice
    | ToolStarted
    | ToolFinished
    | ToolsPending
    | TurnNotice
    | TurnEnded
)
