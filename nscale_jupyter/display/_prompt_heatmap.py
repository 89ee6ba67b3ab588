"""The prompt heatmap: each prompt token coloured by how surprising it was.

Built from ``result.prompt_logprobs`` (vLLM's ``prompt_logprobs=K``). The
prompt includes the chat template's markup (role names, turn markers), so
those tokens show too: the model predicts them as well. A hover title
lists each token's alternatives, and a static table below lists the most
surprising tokens with what the model expected instead, so the view reads
without hovering (and in a static export). Plain inline styles only, every
token escaped, like the reply heatmap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._prompt_logprobs import PromptLogprob
from .._results import NEG_INF_SENTINEL, ChatResult
from ._colours import MUTED
from ._escape import escape_html, inert_html
from ._heatmap import LEGEND, probability_colour

__all__ = ["PromptHeatmap", "prompt_heatmap", "prompt_heatmap_html", "rank_score"]

NO_PROMPT_LOGPROBS = (
    "this reply has no prompt logprobs: ask with --prompt-logprobs K "
    "(chat(..., prompt_logprobs=K); a vLLM extra, sent without streaming)"
)
BY = ("prob", "rank")


@dataclass(frozen=True, slots=True)
class PromptHeatmap:
    """HTML that shows itself in a notebook (``_repr_html_``); ``html`` holds it."""

    html: str
    text: str

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Where HTML cannot show (a terminal, a text/plain fallback): the prompt's text."""
        printer.text(self.text)


def rank_score(rank: int) -> float:
    """1 for the model's first choice, falling with the rank (1/(1+log2 rank))."""
    return 1.0 / (1.0 + math.log2(max(rank, 1)))


def _percent(logprob: float) -> str:
    return "≈0%" if logprob <= NEG_INF_SENTINEL else f"{100 * math.exp(logprob):.1f}%"


def _shown(token: str) -> str:
    return token.replace("\n", "↵").replace(" ", "·") if token.strip() == "" else token


def _alternatives(entry: PromptLogprob, limit: int = 5) -> str:
    return ", ".join(
        f"{_shown(alt.token)!r} {_percent(alt.logprob)}"
        for alt in entry.top[:limit]
        if alt.token != entry.token
    )


def _title(entry: PromptLogprob) -> str:
    if entry.logprob is None:
        return "first token: nothing comes before it, so the model did not predict it"
    rank = f", rank {entry.rank}" if entry.rank is not None else ""
    lines = [f"{entry.token!r}: p={_percent(entry.logprob)}{rank} (logprob {entry.logprob:.3f})"]
    for alt in entry.top:
        mark = "→ " if alt.token == entry.token else "   "
        lines.append(f"{mark}{alt.token!r}: {_percent(alt.logprob)}")
    return "\n".join(lines)


def _score(entry: PromptLogprob, by: str) -> float:
    if by == "rank":
        return rank_score(entry.rank) if entry.rank is not None else 0.0
    return entry.prob or 0.0


def _span(entry: PromptLogprob, by: str) -> str:
    title = escape_html(_title(entry))
    if entry.logprob is None or not entry.token:
        shown = escape_html(entry.token or "∎")
        return (
            f'<span class="nscale-ptok-extra" title="{title}" style="color:#444;'
            f'background:#e4e4e4;border:1px dashed #888;border-radius:3px;font-size:85%">'
            f"{shown}</span>"
        )
    style = f"background:{probability_colour(_score(entry, by))};border-radius:3px;color:#111"
    marker = f'<span data-marker="1" style="color:{MUTED}">↵</span>' if "\n" in entry.token else ""
    body = escape_html(entry.token)
    return f'{marker}<span class="nscale-ptok" title="{title}" style="{style}">{body}</span>'


def _legend(by: str) -> str:
    if by == "rank":
        stops = [(rank_score(r), f"#{r}") for r in (1, 2, 5, 20, 100)]
        head = "rank the model gave the token"
    else:
        stops = [(p, f"{p:.2g}") for p in (0.0, 0.25, 0.5, 0.75, 1.0)]
        head = "probability the model gave the token"
    cells = "".join(
        f'<span style="background:{probability_colour(s)};padding:0 6px;color:#111">'
        f"{escape_html(t)}</span>"
        for s, t in stops
    )
    return (
        f"<div {LEGEND}>{head}: {cells} "
        "<span style='opacity:.75'>(hover a token for its alternatives)</span></div>"
    )


def _table(entries: Sequence[PromptLogprob], rows: int) -> str:
    scored = [e for e in entries if e.surprisal is not None]
    worst = sorted(scored, key=lambda e: (-(e.surprisal or 0.0), e.position))[:rows]
    if not worst:
        return ""
    cell = 'style="padding:1px 8px;text-align:left;border-bottom:1px solid #ddd"'
    head = "".join(
        f"<th {cell}>{h}</th>"
        for h in ("position", "token", "p", "rank", "the model expected instead")
    )
    body = "".join(
        "<tr>"
        f"<td {cell}>{e.position}</td>"
        f"<td {cell}><code>{escape_html(repr(e.token))}</code></td>"
        f"<td {cell}>{_percent(e.logprob if e.logprob is not None else NEG_INF_SENTINEL)}</td>"
        f"<td {cell}>{e.rank if e.rank is not None else ''}</td>"
        f"<td {cell}>{escape_html(_alternatives(e))}</td>"
        "</tr>"
        for e in worst
    )
    return (
        '<div style="font-size:85%;margin-top:6px">'
        f"<div><b>The {len(worst)} most surprising prompt tokens</b></div>"
        f'<table style="border-collapse:collapse"><tr>{head}</tr>{body}</table></div>'
    )


def prompt_heatmap_html(
    entries: Sequence[PromptLogprob], *, by: str = "prob", table: int = 10
) -> str:
    """The prompt heatmap as escaped HTML: spans, a legend and (``table > 0``) the table."""
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}, not {by!r}")
    spans = "".join(_span(e, by) for e in entries)
    return inert_html(
        '<div class="nscale-prompt-heatmap" style="white-space:pre-wrap;line-height:1.7;'
        f'font-family:var(--jp-code-font-family,monospace)">{spans}</div>'
        f"{_legend(by)}{_table(entries, table) if table > 0 else ''}"
    )


def prompt_heatmap(result: ChatResult, *, by: str = "prob", table: int = 10) -> PromptHeatmap:
    """The heatmap of a result's prompt; see ``ChatResult.prompt_heatmap``."""
    entries = result.prompt_logprobs
    if not entries:
        raise ValueError(NO_PROMPT_LOGPROBS)
    text = "".join(e.token for e in entries)
    return PromptHeatmap(prompt_heatmap_html(entries, by=by, table=table), text)
