"""A grid's cells in one matplotlib figure: mean score as bars, mean latency as dots."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._plots import _figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["plot_grid"]


def plot_grid(cells: list[dict[str, Any]], ax: Axes | None = None) -> Axes:
    """Bars: the mean score of each cell (left axis); dots: its mean latency (right)."""
    if ax is None:
        _, axes = _figure(width=max(6.0, 0.9 * len(cells) + 2), height=3.5)
        ax = axes[0][0]
    x = list(range(len(cells)))
    scores = [c["score"] if c["score"] is not None else 0.0 for c in cells]
    ax.bar(x, scores, color="#4c72b0", label="score")
    ax.set_ylabel("mean score")
    ax.set_xticks(x, [c["cell"] for c in cells], rotation=30, ha="right", fontsize=8)
    latency = ax.twinx()
    latency.plot(x, [c["latency"] or 0.0 for c in cells], "o", color="#dd8452", label="latency")
    latency.set_ylabel("mean latency (s)")
    latency.set_ylim(bottom=0)
    ax.set_title("score and latency per cell")
    ax.figure.tight_layout()  # type: ignore[union-attr]
    return ax
