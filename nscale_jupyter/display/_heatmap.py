"""The token heatmap: each token coloured by its probability, alternatives on hover.

Plain inline styles and ``title`` attributes only (JupyterLab's sanitizer
keeps those in untrusted notebooks); every token and alternative is
escaped. Token spans hold exactly the reply's text; whitespace is made
visible by the span's colour and a separate ``↵`` marker before newlines.
Each token sets its own text and background colour, so it reads the same
on a light or a dark theme. A ``<details>`` table under the legend lists
every token's alternatives: readable with no hover and no JavaScript (a
static export, GitHub), and without the inline styles.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence

from .._events import ContentDelta, LogprobsDelta, StreamEvent
from .._results import NEG_INF_SENTINEL, ChatResult, TokenLogprob
from ._colours import MUTED
from ._escape import escape_html, inert_html
from ._tokens import AlignedToken, align

__all__ = ["LEGEND", "HeatmapPart", "alternatives_table", "heatmap_html", "probability_colour"]


def probability_colour(p: float) -> str:
    """Red (unlikely) through yellow to green (likely), light enough for dark text.

    ``hsl(120p, 75%, 78%)`` written as ``#rrggbb``: JupyterLab's sanitizer (an
    untrusted notebook) drops an ``hsl()`` background but keeps the dark text.
    """
    p = min(1.0, max(0.0, p))
    r, g, b = colorsys.hls_to_rgb(round(120 * p) / 360, 0.78, 0.75)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


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
            f'<span class="nscale-tok-extra" title="{title}" style="color:#444;'
            f'background:#e4e4e4;border:1px dashed #888;border-radius:3px;font-size:85%">'
            f"{shown}</span>"
        )
    prob = 0.0 if token.logprob is None else math.exp(token.logprob)
    style = f"background:{probability_colour(prob)};border-radius:3px;color:#111"
    text = token.text
    marker = ""
    if "\n" in text:
        marker = f'<span data-marker="1" style="color:{MUTED}">↵</span>'
    body = escape_html(text)
    return f'{marker}<span class="nscale-tok" title="{title}" style="{style}">{body}</span>'


#: The legend's box, and each colour stop's style (dark text, as on the tokens).
LEGEND = 'class="nscale-heatmap-legend" style="font-size:80%;margin-top:4px"'
_STOP = "padding:0 6px;color:#111"


def _legend() -> str:
    stops = "".join(
        f'<span style="background:{probability_colour(p)};{_STOP}">{p:.2g}</span>'
        for p in (0.0, 0.25, 0.5, 0.75, 1.0)
    )
    return (
        f"<div {LEGEND}>probability: {stops} "
        "<span style='opacity:.75'>(hover a token, or open the table below, for its "
        "alternatives)</span></div>"
    )


def _shown(token: str) -> str:
    """A token as a table shows it: Python's repr, so spaces and newlines are visible."""
    return escape_html(repr(token))


def alternatives_table(tokens: Sequence[AlignedToken], limit: int = 5) -> str:
    """Every token, its probability and its ``limit`` likeliest alternatives, folded."""
    rows = []
    for t in tokens:
        e = t.entry
        alts = sorted(e.top_logprobs, key=lambda a: a.logprob, reverse=True)[:limit]
        others = ", ".join(f"{_shown(a.token)} {_percent(a.logprob)}" for a in alts)
        rows.append(
            f"<tr><td>{t.position}</td><td><code>{_shown(e.token)}</code></td>"
            f"<td>{_percent(e.logprob)}</td><td>{others}</td></tr>"
        )
    if not rows:
        return ""
    return (
        '<details class="nscale-heatmap-alternatives"><summary>alternatives, token by token'
        f"</summary><table><tr><th>#</th><th>token</th><th>p</th><th>alternatives</th></tr>"
        f"{''.join(rows)}</table></details>"
    )


def heatmap_html(entries: Sequence[TokenLogprob], text: str) -> str:
    """The heatmap of a reply's tokens, as escaped HTML."""
    tokens = align(entries, text)
    spans = "".join(_span(t) for t in tokens)
    return inert_html(
        '<div class="nscale-heatmap" style="white-space:pre-wrap;line-height:1.7;'
        f'font-family:var(--jp-code-font-family,monospace)">{spans}</div>{_legend()}'
        f"{alternatives_table(tokens)}"
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
