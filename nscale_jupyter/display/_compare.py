"""Side-by-side view of a comparison: value, the reply as every view draws it, usage, a plot."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from .._compare import Comparison
from .._events import result_events
from ._choice import ChoiceView, column_html
from ._escape import inert_html
from ._footer import footer_text

__all__ = ["compare_bundle"]


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


def compare_bundle(comparisons: Sequence[Comparison], plots: bool = True) -> dict[str, str]:
    cells, plain = [], []
    for c in comparisons:
        title = f"{c.field} = {c.value!r}"
        text = c.result.text if c.result is not None else ""
        foot = c.error or footer_text(c.result)
        plot = _plot_png(c) if plots else ""
        cells.append(column_html(title, _view(c) + plot, foot, error=c.error is not None))
        plain.append(f"[{title}]\n{text}\n({foot})")
    html = f"<div style='display:flex;gap:8px;flex-wrap:wrap'>{''.join(cells)}</div>"
    return {"text/html": inert_html(html), "text/plain": "\n\n".join(plain)}
