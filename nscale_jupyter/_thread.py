"""One conversation: its messages, its own system prompt, the calls awaiting a person.

A ``Session`` keeps its threads by name; the turn engine reads a thread's
history and records a finished (or cut-off) turn into it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._types import ChatRequest, Message, ToolCall

if TYPE_CHECKING:
    from ._transcript import Answer

__all__ = ["Thread"]


@dataclass
class Thread:
    """One conversation: its messages, its own system prompt, calls awaiting answers.

    ``system`` None means the settings' system prompt; "" means none at all.
    """

    name: str
    system: str | None = None
    messages: list[Message] = field(default_factory=list)
    #: Tool calls left for a person (``%chat tool-result``), and the request to go on with.
    pending: tuple[ToolCall, ...] = ()
    resume: ChatRequest | None = None
    #: Reasoning and provenance of the answers, by position in ``messages`` (exports).
    answers: dict[int, Answer] = field(default_factory=dict)

    def record(
        self, added: Sequence[Message], answers: Mapping[int, Answer] | None = None
    ) -> None:
        """Append the messages of one finished (or cut-off) turn (answers: by position in it)."""
        n = len(self.messages)
        for position in [p for p in self.answers if p >= n]:  # left by an undo or a rerun
            del self.answers[position]
        self.answers.update({n + i: a for i, a in (answers or {}).items()})
        self.messages.extend(added)

    def clear(self) -> None:
        self.messages.clear()
        self.answers.clear()
        self.pending, self.resume = (), None
