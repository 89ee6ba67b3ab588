"""The token heatmap: each token coloured by its probability, alternatives on hover.

Plain inline styles and ``title`` attributes only (JupyterLab's sanitizer
keeps those in untrusted notebooks); every token and alternative is
escaped. Token spans hold exactly the reply's text; whitespace is made
visible by the span's colour and a separate ``↵`` marker before newlines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .._events import ContentDelta, LogprobsDelta, StreamEvent
from .._results import NEG_INF_SENTINEL, ChatResult, TokenLogprob
from ._escape import escape_html, inert_html
from ._tokens import AlignedToken, align

__all__ = ["HeatmapPart", "heatmap_html", "probability_colour"]


def probability_colour(p: float) -> str:
    """Red (unlikely) through yellow to green (likely), light enough for dark text."""
    p = min(1.0, max(0.0, p))
    return f"hsl({round(120 * p)}, 75%, 78%)"


def _percent(logprob: float) -> str:
    if logprob <= NEG_INF_SENTINEL:
        return "≈0%"
    return f"{100 * math.exp(logprob):.1f}%"


def _title(token: AlignedToken) -> str:
    entry = token.entry
    lines = [f"{entry.token!r}: p={_percent(entry.logprob)} (logprob {entry.logprob:.3f})"]
    for alt in sorted(entry.top_logprobs, key=lambda t: t.logprob, reverse=True):
        mark = "→ " if alt.token == entry.token else "   "
        lines.append(f"{mark}{alt.token!r}: {_percent(alt.logprob)}")
    if not token.matched:
        lines.append("(not part of the reply text: end of sequence, markup or a partial byte)")
    elif entry.top_logprobs:
        lines.append(f"branch here: _.branch({token.position}, 'TOKEN') (or the panel's what-if)")
    return "\n".join(lines)


def _span(token: AlignedToken) -> str:
    title = escape_html(_title(token))
    if not token.matched or not token.text:
        shown = escape_html(token.entry.token or "∅")
        return (
            f'<span class="nscale-tok-extra" title="{title}" style="color:#999;'
            f'border:1px dashed #bbb;border-radius:3px;font-size:85%">{shown}</span>'
        )
    prob = 0.0 if token.logprob is None else math.exp(token.logprob)
    style = f"background:{probability_colour(prob)};border-radius:3px;color:#111"
    text = token.text
    marker = ""
    if "\n" in text:
        marker = '<span data-marker="1" style="color:#999">↵</span>'
    body = escape_html(text)
    return f'{marker}<span class="nscale-tok" title="{title}" style="{style}">{body}</span>'


def _legend() -> str:
    stops = "".join(
        f'<span style="background:{probability_colour(p)};padding:0 6px">{p:.2g}</span>'
        for p in (0.0, 0.25, 0.5, 0.75, 1.0)
    )
    return (
        f'<div style="font-size:80%;margin-top:4px">probability: {stops} '
        "<span style='color:#999'>(hover a token for its alternatives)</span></div>"
    )


def heatmap_html(entries: Sequence[TokenLogprob], text: str) -> str:
    """The heatmap of a reply's tokens, as escaped HTML."""
    spans = "".join(_span(t) for t in align(entries, text))
    return inert_html(
        '<div class="nscale-heatmap" style="white-space:pre-wrap;line-height:1.7;'
        f'font-family:var(--jp-code-font-family,monospace)">{spans}</div>{_legend()}'
    )


def result_heatmap(result: ChatResult, choice: int = 0) -> dict[str, str]:
    """A mimebundle for one choice of a finished result."""
    c = result.choices[choice]
    if not c.logprobs:
        raise ValueError("this reply has no logprobs: ask with --logprobs --top-logprobs 5")
    return {"text/html": heatmap_html(c.logprobs, c.content or ""), "text/plain": c.text}


class HeatmapPart:
    """A streaming part: tokens colour in as they arrive (choice ``index``)."""

    def __init__(self, index: int = 0) -> None:
        self.index = index
        self._entries: list[TokenLogprob] = []
        self._text: list[str] = []

    def feed(self, event: StreamEvent) -> bool:
        if isinstance(event, LogprobsDelta) and event.index == self.index:
            self._entries.extend(event.tokens)
            return True
        if isinstance(event, ContentDelta) and event.index == self.index:
            self._text.append(event.text)
            return True
        return False

    def render(self) -> dict[str, str]:
        if not self._entries:
            return {}
        text = "".join(self._text)
        return {"text/html": heatmap_html(self._entries, text), "text/plain": text}

    def finish(self) -> None:
        pass
