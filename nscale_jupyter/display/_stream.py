"""The streaming renderer: events in, one coalesced display per part out.

In a notebook the reply is Markdown updated in place through one display
handle, at most ``1 / interval`` times a second plus a final update. Each
update re-sends the whole reply, so updates also space out as it grows
(``chars_per_second`` of display traffic at most): a long reply then sends,
and makes the front end render, an amount linear in its length. Reasoning streams into a
folded ``<details>`` above the answer; ``n > 1`` choices sit side by side;
a footer gives model, finish reason, tokens, time to first token and speed.
In terminal IPython the text is printed as it arrives.

Extra parts (tool cards, the logprob heatmap) plug in through :class:`Part`:
each gets its own display handle once it has something to show.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO

from .._events import (
    ContentDelta,
    ReasoningDelta,
    StreamDone,
    StreamEvent,
    UsageUpdate,
    result_events,
)
from .._results import ChatResult
from .._retry import RetryNotice
from ._choice import ChoiceView, column_html
from ._escape import escape_html, inert_html
from ._footer import footer_text

__all__ = ["ChatRenderer", "Part", "notice_html"]

Bundle = dict[str, str]


def _sub(footer: str) -> str:
    """The footer line (in the theme's text colour: it reads on any theme)."""
    return f"<sub class='nscale-footer'>{escape_html(footer)}</sub>"


def notice_html(text: str) -> str:
    """A one-line notice (retries, the turn's notes), escaped."""
    return f"<i class='nscale-notice'>{escape_html(text)}</i>"


class Part(Protocol):
    """A display part with its own output (tool cards, heatmap)."""

    def render(self) -> Bundle:
        """The current mimebundle (``{}`` while there is nothing to show)."""


class _Handle(Protocol):
    def update(self, obj: Any, raw: bool = ...) -> None: ...


def _display(bundle: Bundle, metadata: dict[str, Any] | None = None) -> _Handle:
    from IPython.display import display

    handle = display(bundle, raw=True, display_id=True, metadata=metadata)
    assert handle is not None
    return handle  # type: ignore[no-any-return]


class ChatRenderer:
    """Render one reply as it streams (or a whole one, replayed as the same events).

    ``cards``: tool calls as cards in their own output (else inline in the
    text); ``logprobs``: a token heatmap under the reply.
    """

    def __init__(
        self,
        *,
        rich: bool = True,
        interval: float = 0.05,
        chars_per_second: float = 100_000.0,
        out: TextIO | None = None,
        display: Callable[[Bundle], _Handle] = _display,
        clock: Callable[[], float] = time.monotonic,
        cards: bool = False,
        logprobs: bool = False,
        metadata: bool | None = None,
    ) -> None:
        self.rich = rich
        #: Put the answer's provenance in its output's metadata (IPython's display: on).
        self.metadata = display is _display if metadata is None else metadata
        self.cards = cards and rich
        self.logprobs = logprobs and rich
        self.interval = interval
        self.chars_per_second = chars_per_second
        self.sent_chars = 0  # display traffic so far, for tests and benchmarks
        self.updates = 0  # display updates sent, for tests and benchmarks
        self._out = out or sys.stdout
        self._display = display
        self._clock = clock
        self.views: dict[int, ChoiceView] = {}
        self._handle: _Handle | None = None
        self._part_handles: dict[int, _Handle] = {}
        self._dirty = False
        self._fed = False
        self._last = 0.0
        self._next = 0.0  # no update before this (clock time)
        self._printed_reasoning = False
        self._notices: list[_Handle] = []
        self.result: ChatResult | None = None

    def view(self, index: int) -> ChoiceView:
        view = self.views.get(index)
        if view is None:
            view = self.views[index] = ChoiceView(index, logprobs=self.logprobs)
        return view

    @property
    def parts(self) -> list[Part]:
        """Choice 0's parts with their own output: tool cards, heatmap."""
        view = self.view(0)
        shown: list[Part | None] = [view.cards if self.cards else None, view.heatmap]
        return [p for p in shown if p is not None]

    # -- events ------------------------------------------------------------------
    def feed(self, item: StreamEvent | RetryNotice) -> None:
        if isinstance(item, RetryNotice):
            self.notice(
                f"retrying in {item.delay:.1f} s ({item.attempt}/{item.max_retries}): "
                f"{item.reason}"
            )
            return
        if isinstance(item, StreamDone):
            self.result = item.result
            return
        if isinstance(item, UsageUpdate):
            return
        self._fed = True
        view = self.view(item.index)
        if view.feed(item):
            self._dirty = True
            if not self.rich and item.index == 0:
                self._print_delta(item)
        if self.rich and item.index == 0:
            for i, part in enumerate(self.parts):
                self._update_part(i, part, force=False)
        self.tick()

    def _print_delta(self, item: StreamEvent) -> None:
        if isinstance(item, ReasoningDelta):
            if not self._printed_reasoning:
                self._print("[reasoning] ")
                self._printed_reasoning = True
            self._print(item.text)
        elif isinstance(item, ContentDelta):
            self._print(item.text)

    def notice(self, text: str) -> None:
        """A one-line status message (retries): gone again once the reply arrives."""
        if self.rich:
            html = inert_html(notice_html(text))
            self._notices.append(self._display({"text/plain": text, "text/html": html}))
        else:
            self._print(f"\n[{text}]\n")

    def finish(
        self,
        result: ChatResult | None = None,
        *,
        cut_off: str | None = None,
        show_footer: bool = True,
    ) -> None:
        """Final render: the whole reply, parts finished, the footer."""
        result = result or self.result
        if result is not None and not self._fed:
            for event in result_events(result):  # a whole reply: the same path as a stream
                self.feed(event)
        for view in self.views.values():
            view.finish()
        if self.rich:
            self.refresh()
        footer = footer_text(result, cut_off=cut_off) if show_footer else ""
        if self.rich:
            if cut_off is None:  # the retries worked: their notices have done their job
                for handle in self._notices:
                    handle.update({"text/plain": ""}, raw=True)
            prov = result.provenance if result is not None else None
            meta = {"nscale": prov.to_json()} if prov is not None and self.metadata else None
            self._flush(footer=footer, metadata=meta)
        else:
            view = self.view(0)
            calls = "".join(f"\n-> {c}" for c in view.cards.calls())
            ended = "\n" if not view.empty else ""
            self._print(calls + ended + (f"[{footer}]\n" if footer else ""))

    def tick(self) -> None:
        """Show what is held back, if it is time (also called when nothing arrives)."""
        if self._dirty and self.rich and self._clock() >= self._next:
            self._flush()

    def refresh(self) -> None:
        """Re-render the parts now (a tool card got its status or result)."""
        for i, part in enumerate(self.parts):
            self._update_part(i, part, force=True)

    def set_status(self, call_id: str | None, status: str, text: str | None = None) -> None:
        """Move a tool card along (running, done, error, waiting, interrupted)."""
        self.view(0).cards.set_status(call_id, status, text)
        if self.cards:
            self.refresh()
        elif text is not None and not self.rich:  # terminal: one line per result
            self._print(f"  {self.view(0).cards.name(call_id)} -> [{status}] {text}\n")

    # -- rendering -----------------------------------------------------------------
    def bundle(self, footer: str = "") -> Bundle:
        """The reply's mimebundle as it stands."""
        indexes = sorted(i for i, v in self.views.items() if not v.empty or i == 0) or [0]
        views = [self.view(i) for i in indexes]
        plain = [(f"[choice {v.index}]\n" if len(views) > 1 else "") + v.plain() for v in views]
        bundle: Bundle = {"text/plain": "\n\n".join(plain) + (f"\n\n{footer}" if footer else "")}
        if len(views) > 1:
            columns = "".join(column_html(f"choice {v.index}", v.html()) for v in views)
            foot = f"<div>{_sub(footer)}</div>" if footer else ""
            bundle["text/html"] = inert_html(
                "<div class='nscale-choices' style='display:flex;gap:8px;flex-wrap:wrap'>"
                f"{columns}</div>{foot}"
            )
        else:
            md = views[0].markdown(inline_calls=not self.cards)
            bundle["text/markdown"] = md + (f"\n\n{_sub(footer)}" if footer else "")
        return bundle

    def _flush(self, footer: str = "", metadata: dict[str, Any] | None = None) -> None:
        started = time.perf_counter()
        bundle = self.bundle(footer)
        extra: dict[str, Any] = {"metadata": metadata} if metadata else {}
        if self._handle is None:
            self._handle = self._display(bundle, **extra)
        else:
            self._handle.update(bundle, raw=True, **extra)
        self.updates += 1
        self._dirty = False
        self._last = self._clock()
        # Each update re-sends the whole reply, so space updates out as it grows:
        # at most ~1/interval a second, never more than ~10% of the time spent
        # rendering here, and no more than chars_per_second of traffic for the
        # front end to render. The sizes then grow geometrically, and a long
        # reply costs time and traffic linear in its length.
        cost = time.perf_counter() - started
        size = max(map(len, bundle.values()))
        self.sent_chars += size
        self._next = self._last + max(self.interval, 10 * cost, size / self.chars_per_second)

    def _update_part(self, i: int, part: Part, *, force: bool) -> None:
        handle = self._part_handles.get(i)
        if handle is not None and not force and self._clock() < self._next:
            return  # not yet: rendering a part costs as much as its size
        bundle = part.render()
        if not bundle:
            return
        if handle is None:
            self._part_handles[i] = self._display(bundle)
        else:
            handle.update(bundle, raw=True)

    def _print(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()
