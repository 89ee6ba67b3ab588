"""One choice of a reply, rendered: the one renderer behind every view of a reply.

A :class:`ChoiceView` is fed the events the accumulator emits (streamed, or
a whole response replayed as the same events) and renders the choice as
Markdown (a single reply in a cell or the panel), as an HTML column (``n > 1``
and compare), or as text (the terminal). Its parts: reasoning folded away,
the answer as safe Markdown, tool cards, and the logprob heatmap.
"""

from __future__ import annotations

from .._events import ContentDelta, ReasoningDelta, StreamEvent, ToolCallDelta
from ._colours import ERROR
from ._escape import MarkdownEscaper, escape_html
from ._heatmap import HeatmapPart
from ._toolcard import ToolCardPart

__all__ = ["ChoiceView", "column_html", "folded_reasoning"]

Bundle = dict[str, str]
#: A footer: dimmed in the theme's own text colour (light or dark); an error in red.
_FOOT, _FOOT_ERROR = "opacity:.75", f"color:{ERROR}"


def folded_reasoning(text: str) -> str:
    """Reasoning in a closed ``<details>`` (blank lines keep Markdown around it intact)."""
    return (
        '<details><summary>Reasoning</summary>\n\n<pre style="white-space: pre-wrap">'
        f"{escape_html(text)}</pre>\n\n</details>\n\n"
    )


def column_html(title: str, body: str, footer: str = "", *, error: bool = False) -> str:
    """One column of a side-by-side view (``body`` is already escaped HTML)."""
    foot = (
        f"<div><sub class='nscale-footer' style='{_FOOT_ERROR if error else _FOOT}'>"
        f"{escape_html(footer)}</sub></div>"
        if footer
        else ""
    )
    return (
        "<div class='nscale-column' style='flex:1;min-width:14em;border:1px solid #8884;"
        f"border-radius:6px;padding:6px'><b>{escape_html(title)}</b>{body}{foot}</div>"
    )


class ChoiceView:
    """Choice ``index`` of a reply, as its events arrive."""

    def __init__(self, index: int = 0, *, logprobs: bool = False) -> None:
        self.index = index
        self._escaper = MarkdownEscaper()
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self.cards = ToolCardPart(index)
        self.heatmap = HeatmapPart(index) if logprobs else None

    def feed(self, event: StreamEvent) -> bool:
        """Take an event of this choice; True when the text, reasoning or calls changed."""
        if isinstance(event, ContentDelta):
            self._text.append(event.text)
            self._escaper.feed(event.text)
        elif isinstance(event, ReasoningDelta):
            self._reasoning.append(event.text)
        elif isinstance(event, ToolCallDelta):
            self.cards.feed(event)
        else:
            return self.heatmap.feed(event) if self.heatmap is not None else False
        if self.heatmap is not None:
            self.heatmap.feed(event)
        return True

    def finish(self) -> None:
        self.cards.finish()
        if self.heatmap is not None:
            self.heatmap.finish()

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    @property
    def empty(self) -> bool:
        return not (self._text or self._reasoning or self.cards.calls())

    # -- renderings ----------------------------------------------------------------
    def markdown(self, *, inline_calls: bool = False) -> str:
        """Reasoning folded, then the answer as safe Markdown (calls inline, if asked)."""
        reasoning = self.reasoning
        out = [folded_reasoning(reasoning) if reasoning else "", self._escaper.value()]
        calls = self.cards.calls() if inline_calls else []
        if calls:
            rows = "".join(f"<div><code>{escape_html(c)}</code></div>" for c in calls)
            out.append(f"\n\n<div><b>tool calls</b>{rows}</div>")
        return "".join(out)

    def html(self) -> str:
        """The choice as HTML: reasoning folded, text, tool cards, heatmap."""
        reasoning = self.reasoning
        out = [
            "<details><summary>Reasoning</summary><pre style='white-space:pre-wrap'>"
            f"{escape_html(reasoning)}</pre></details>"
            if reasoning
            else "",
            f"<div style='white-space:pre-wrap;margin:4px 0'>{escape_html(self.text)}</div>",
        ]
        for part in (self.cards, self.heatmap):
            bundle = part.render() if part is not None else {}
            out.append(bundle.get("text/html", ""))
        return "".join(out)

    def plain(self) -> str:
        reasoning = self.reasoning
        thought = f"[reasoning]\n{reasoning}\n[/reasoning]\n" if reasoning else ""
        calls = "".join(f"\n-> {c}" for c in self.cards.calls())
        return thought + self.text + calls
