"""A whole turn on screen: what every face shows, drawn from the turn's events.

Each round (request) of a turn gets a :class:`ChatRenderer`; tool calls
move through running -> done / error / interrupted / waiting in their
cards; the round-limit and unanswered-call notices show as one line; a
turn cut off (interrupt, error) ends with what arrived, marked. The faces
(a cell, the panel) differ only in where bundles go (``display``) and in
terminal versus rich rendering.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from .._events import StreamDone
from .._turn_events import (
    RoundStarted,
    ToolFinished,
    ToolsPending,
    ToolStarted,
    TurnEnded,
    TurnEvent,
    TurnNotice,
    TurnOutcome,
)
from ._escape import inert_html
from ._stream import Bundle, ChatRenderer, notice_html

__all__ = ["TurnRenderer"]


class TurnRenderer:
    """Render the events of one turn; ``end(outcome)`` also when the events stopped early."""

    def __init__(
        self,
        *,
        rich: bool = True,
        display: Callable[[Bundle], Any] | None = None,
        out: TextIO | None = None,
        interval: float = 0.05,
        on_notice: Callable[[str], None] | None = None,
        metadata: bool | None = None,
    ) -> None:
        self._metadata = metadata  # provenance in the outputs' metadata (None: IPython's only)
        self.rich = rich
        self.on_notice = on_notice or self.notice
        self._display = display
        self._out = out
        self._interval = interval
        self.rounds: list[ChatRenderer] = []
        self._finished = False  # the current round's renderer has had its final render
        self.ended = False

    @property
    def current(self) -> ChatRenderer | None:
        return self.rounds[-1] if self.rounds else None

    def _renderer(self, logprobs: bool) -> ChatRenderer:
        kwargs: dict[str, Any] = {"rich": self.rich, "interval": self._interval}
        if self._display is not None:
            kwargs["display"] = self._display
        if self._out is not None:
            kwargs["out"] = self._out
        return ChatRenderer(cards=True, logprobs=logprobs, metadata=self._metadata, **kwargs)

    def tick(self) -> None:
        if self.current is not None:
            self.current.tick()

    def feed(self, event: TurnEvent) -> None:
        if isinstance(event, RoundStarted):
            self.rounds.append(self._renderer(bool(event.request.logprobs)))
            self._finished = False
        elif isinstance(event, TurnEnded):
            self.end(event.outcome)
        elif isinstance(event, TurnNotice):
            self.on_notice(event.text)
        elif self.current is None:  # an interrupt landed before the round's start showed
            self.rounds.append(self._renderer(False))
            self.feed(event)
        elif isinstance(event, StreamDone):
            self.current.feed(event)
            self.current.finish(event.result)
            self._finished = True
        elif isinstance(event, ToolStarted):
            self.current.set_status(event.call.id, "running")
        elif isinstance(event, ToolFinished):
            outcome = event.outcome
            self.current.set_status(outcome.call.id, outcome.status, outcome.content)
        elif isinstance(event, ToolsPending):
            for call in event.calls:
                self.current.set_status(call.id, "waiting")
        else:
            self.current.feed(event)

    def end(self, outcome: TurnOutcome) -> None:
        """The turn is over: a round cut off mid-way gets its final render, marked."""
        if self.ended:
            return
        self.ended = True
        if self._finished:
            return
        if self.current is None:
            if outcome.result is None:
                return  # nothing arrived, nothing shown: the face says what went wrong
            self.rounds.append(self._renderer(False))
        current = self.current
        assert current is not None
        if outcome.result is not None or current.updates:
            current.finish(outcome.result, cut_off=outcome.cut_off)

    def notice(self, text: str) -> None:
        bundle = {"text/plain": text, "text/html": inert_html(notice_html(text))}
        if self.rich and self._display is not None:
            self._display(bundle)
        elif self.rich:
            from IPython.display import display

            display(bundle, raw=True)
        else:
            (self._out or sys.stdout).write(f"[{text}]\n")
