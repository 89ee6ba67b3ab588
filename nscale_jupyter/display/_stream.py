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
    ToolCallDelta,
    UsageUpdate,
)
from .._retry import RetryNotice
from .._types import ChatResult
from ._escape import MarkdownEscaper, escape_html
from ._footer import footer_text

__all__ = ["ChatRenderer", "Part"]

Bundle = dict[str, str]


class Part(Protocol):
    """A plug-in display part (tool cards, heatmap)."""

    def feed(self, event: StreamEvent) -> bool:
        """Take an event; return True when the part's rendering changed."""

    def render(self) -> Bundle:
        """The current mimebundle (``{}`` while there is nothing to show)."""

    def finish(self) -> None:
        """The stream ended."""


class _Handle(Protocol):
    def update(self, obj: Any, raw: bool = ...) -> None: ...


def _display(bundle: Bundle) -> _Handle:
    from IPython.display import display

    handle = display(bundle, raw=True, display_id=True)
    assert handle is not None
    return handle  # type: ignore[no-any-return]


class ChatRenderer:
    """Render one reply as it streams."""

    def __init__(
        self,
        *,
        rich: bool = True,
        interval: float = 0.05,
        chars_per_second: float = 100_000.0,
        parts: list[Part] | None = None,
        out: TextIO | None = None,
        display: Callable[[Bundle], _Handle] = _display,
        clock: Callable[[], float] = time.monotonic,
        inline_calls: bool = True,
    ) -> None:
        self.rich = rich
        self.inline_calls = inline_calls  # tool calls in the reply (else a part shows them)
        self.interval = interval
        self.chars_per_second = chars_per_second
        self.sent_chars = 0  # display traffic so far, for tests and benchmarks
        self.parts = parts or []
        self.updates = 0  # display updates sent, for tests and benchmarks
        self._out = out or sys.stdout
        self._display = display
        self._clock = clock
        self._text: dict[int, list[str]] = {}
        self._escapers: dict[int, MarkdownEscaper] = {}
        self._reasoning: dict[int, list[str]] = {}
        # choice -> tool index -> [name, argument fragments]
        self._calls: dict[int, dict[int, list[str]]] = {}
        self._handle: _Handle | None = None
        self._part_handles: dict[int, _Handle] = {}
        self._dirty = False
        self._last = 0.0
        self._next = 0.0  # no update before this (clock time)
        self._printed_reasoning = False
        self.result: ChatResult | None = None

    # -- events ------------------------------------------------------------------
    def feed(self, item: StreamEvent | RetryNotice) -> None:
        if isinstance(item, RetryNotice):
            self.notice(
                f"retrying in {item.delay:.1f} s ({item.attempt}/{item.max_retries}): "
                f"{item.reason}"
            )
            return
        if isinstance(item, ContentDelta):
            self._text.setdefault(item.index, []).append(item.text)
            escaper = self._escapers.get(item.index)
            if escaper is None:
                escaper = self._escapers[item.index] = MarkdownEscaper()
            escaper.feed(item.text)
            if not self.rich and item.index == 0:
                self._print(item.text)
            self._dirty = True
        elif isinstance(item, ReasoningDelta):
            self._reasoning.setdefault(item.index, []).append(item.text)
            if not self.rich and item.index == 0:
                if not self._printed_reasoning:
                    self._print("[reasoning] ")
                    self._printed_reasoning = True
                self._print(item.text)
            self._dirty = True
        elif isinstance(item, ToolCallDelta):
            call = self._calls.setdefault(item.index, {}).setdefault(item.tool_index, [""])
            if item.name and not call[0]:
                call[0] = item.name
            call.append(item.arguments)
            self._dirty = True
        elif isinstance(item, StreamDone):
            self.result = item.result
        elif isinstance(item, UsageUpdate):
            pass
        for i, part in enumerate(self.parts):
            if part.feed(item) and self.rich:
                self._update_part(i, part, force=False)
        self.tick()

    def notice(self, text: str) -> None:
        """A one-line status message (retries)."""
        if self.rich:
            self._display({"text/plain": text, "text/html": f"<i>{escape_html(text)}</i>"})
        else:
            self._print(f"\n[{text}]\n")

    def finish(
        self,
        result: ChatResult | None = None,
        *,
        cut_off: str | None = None,
        show_footer: bool = True,
    ) -> None:
        """Final render: the whole text, parts finished, the footer."""
        result = result or self.result
        if result is not None and not self._text and not self._reasoning:
            # Not streamed (or nothing arrived as events): show the result's text.
            for choice in result.choices:
                if choice.content:
                    self._escapers[choice.index] = escaper = MarkdownEscaper()
                    escaper.feed(choice.content)
                    self._text[choice.index] = [choice.content]
                if choice.tool_calls and choice.index not in self._calls:
                    self._calls[choice.index] = {
                        c.index: [c.name or "", c.arguments] for c in choice.tool_calls
                    }
                if choice.reasoning:
                    self._reasoning[choice.index] = [choice.reasoning]
                if not self.rich and choice.index == 0:
                    self._print(choice.content or "")
        for i, part in enumerate(self.parts):
            part.finish()
            if self.rich:
                self._update_part(i, part, force=True)
        footer = footer_text(result, cut_off=cut_off) if show_footer else ""
        if self.rich:
            self._flush(footer=footer)
        else:
            calls = "".join(f"\n-> {c}" for c in self._calls_text(0))
            ended = "\n" if self._text or self._reasoning or calls else ""
            self._print(calls + ended + (f"[{footer}]\n" if footer else ""))

    def tick(self) -> None:
        """Show what is held back, if it is time (also called when nothing arrives)."""
        if self._dirty and self.rich and self._clock() >= self._next:
            self._flush()

    def refresh(self) -> None:
        """Re-render the parts now (a tool card got its result after the stream)."""
        for i, part in enumerate(self.parts):
            self._update_part(i, part, force=True)

    # -- rendering -----------------------------------------------------------------
    def bundle(self, footer: str = "") -> Bundle:
        """The reply's mimebundle as it stands."""
        indexes = sorted(set(self._text) | set(self._reasoning) | set(self._calls)) or [0]
        plain = []
        for i in indexes:
            reasoning = "".join(self._reasoning.get(i, ()))
            text = "".join(self._text.get(i, ()))
            head = f"[choice {i}]\n" if len(indexes) > 1 else ""
            thought = f"[reasoning]\n{reasoning}\n[/reasoning]\n" if reasoning else ""
            calls = "".join(f"\n-> {c}" for c in self._calls_text(i))
            plain.append(head + thought + text + calls)
        bundle: Bundle = {"text/plain": "\n\n".join(plain) + (f"\n\n{footer}" if footer else "")}
        if len(indexes) > 1:
            bundle["text/html"] = self._choices_html(indexes, footer)
        else:
            bundle["text/markdown"] = self._markdown(indexes[0], footer)
        return bundle

    def _markdown(self, index: int, footer: str) -> str:
        reasoning = "".join(self._reasoning.get(index, ()))
        escaper = self._escapers.get(index)
        out = []
        if reasoning:
            out.append(
                '<details><summary>Reasoning</summary>\n\n<pre style="white-space: pre-wrap">'
                f"{escape_html(reasoning)}</pre>\n\n</details>\n\n"
            )
        out.append(escaper.value() if escaper is not None else "")
        calls = self._calls_text(index) if self.inline_calls else []
        if calls:
            rows = "".join(f"<div><code>{escape_html(c)}</code></div>" for c in calls)
            out.append(f"\n\n<div><b>tool calls</b>{rows}</div>")
        if footer:
            out.append(f"\n\n<sub>{escape_html(footer)}</sub>")
        return "".join(out)

    def _calls_text(self, index: int) -> list[str]:
        calls = self._calls.get(index, {})
        return [f"{c[0] or '?'}({''.join(c[1:])})" for _, c in sorted(calls.items())]

    def _choices_html(self, indexes: list[int], footer: str) -> str:
        cells = []
        for i in indexes:
            reasoning = "".join(self._reasoning.get(i, ()))
            text = "".join(self._text.get(i, ()))
            folded = (
                f"<details><summary>Reasoning</summary><pre style='white-space:pre-wrap'>"
                f"{escape_html(reasoning)}</pre></details>"
                if reasoning
                else ""
            )
            cells.append(
                "<div style='flex:1;min-width:14em;border:1px solid #8884;border-radius:6px;"
                f"padding:6px'><b>choice {i}</b>{folded}"
                f"<div style='white-space:pre-wrap'>{escape_html(text)}</div></div>"
            )
        foot = f"<div><sub>{escape_html(footer)}</sub></div>" if footer else ""
        return f"<div style='display:flex;gap:8px;flex-wrap:wrap'>{''.join(cells)}</div>{foot}"

    def _flush(self, footer: str = "") -> None:
        started = time.perf_counter()
        bundle = self.bundle(footer)
        if self._handle is None:
            self._handle = self._display(bundle)
        else:
            self._handle.update(bundle, raw=True)
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
        bundle = part.render()
        if not bundle:
            return
        handle = self._part_handles.get(i)
        if handle is None:
            self._part_handles[i] = self._display(bundle)
        elif force or self._clock() - self._last >= self.interval:
            handle.update(bundle, raw=True)

    def _print(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()
