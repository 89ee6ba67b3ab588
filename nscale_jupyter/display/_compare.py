"""Side-by-side view of a comparison: value, the reply as every view draws it, usage, a plot."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from .._compare import Comparison, Divergence, divergence
from .._events import result_events
from ._choice import ChoiceView, column_html
from ._escape import escape_html, inert_html
from ._footer import footer_text

__all__ = ["compare_bundle", "summary_lines"]


def _plot_png(comparison: Comparison) -> str:
    result = comparison.result
    if result is None or not result.logprobs:
        return ""
    from ._plots import _figure, plot_tokens

    fig, axes = _figure(width=3.2, height=1.6)
    plot_tokens(list(result.logprobs), axes[0][0], scale="prob", text=result.text)
    axes[0][0].set_title("")
    axes[0][0].set_xticks([])
    data = base64.b64encode(fig._repr_png_()).decode()
    return f"<img alt='token probabilities' src='data:image/png;base64,{data}' style='width:100%'>"


def _view(comparison: Comparison) -> str:
    """The value's reply, drawn by the one choice renderer (reasoning, text, cards, heatmap)."""
    result = comparison.result
    if result is None:
        return ""
    logprobs = bool(result.choice.logprobs)
    view = ChoiceView(0, logprobs=logprobs)
    for event in result_events(result):
        if getattr(event, "index", None) == 0:
            view.feed(event)
    view.finish()
    return view.html()


def _shown(piece: str | None) -> str:
    return "(its end)" if piece is None else repr(piece)


def summary_lines(summary: Divergence) -> list[str]:
    """How the answers differ: how many distinct, and where each departs from the first."""
    field = summary.field
    rows = summary.rows
    lines = [f"{summary.distinct} distinct answer(s) among {summary.total}"]
    for row in rows[1:]:
        if row.position is None:
            lines.append(f"{field}={row.value!r}: the same as {field}={rows[0].value!r}")
            continue
        lines.append(
            f"{field}={row.value!r} (answer {row.answer + 1}) departs at {summary.unit} "
            f"{row.position}: {_shown(row.piece)} where {field}={rows[0].value!r} has "
            f"{_shown(row.first)}"
        )
    return lines


def _summary_html(lines: list[str]) -> str:
    items = "".join(f"<li>{escape_html(line)}</li>" for line in lines[1:])
    return (
        "<div class='nscale-compare-summary' style='margin-top:6px'>"
        f"{escape_html(lines[0])}<ul style='margin:2px 0'>{items}</ul></div>"
    )


def compare_bundle(comparisons: Sequence[Comparison], plots: bool = True) -> dict[str, str]:
    cells, plain = [], []
    for c in comparisons:
        title = f"{c.field} = {c.value!r}"
        text = c.result.text if c.result is not None else ""
        foot = c.error or footer_text(c.result)
        plot = _plot_png(c) if plots else ""
        cells.append(column_html(title, _view(c) + plot, foot, error=c.error is not None))
        plain.append(f"[{title}]\n{text}\n({foot})")
    row = "<div class='nscale-compare' style='display:flex;gap:8px;flex-wrap:wrap'>"
    html = f"{row}{''.join(cells)}</div>"
    summary = divergence(comparisons)
    if summary is not None and summary.total > 1:
        lines = summary_lines(summary)
        html += _summary_html(lines)
        plain.append("\n".join(lines))
    return {"text/html": inert_html(html), "text/plain": "\n\n".join(plain)}
