"""Renderers: streaming Markdown, reasoning, tool cards, logprob heatmap,
matplotlib plots and the usage footer. Display code never touches HTTP.

Entry points used by the pure layers (``ChatResult``'s reprs and plot
methods) are thin functions here that import their module on first use,
so importing this package stays cheap (no matplotlib, no ipywidgets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from .._branching import Branch
    from .._results import ChatResult

__all__ = [
    "branch_html",
    "logprobs_table",
    "plot_grid",
    "plot_logprobs",
    "prompt_heatmap",
    "result_markdown",
]


def result_markdown(result: ChatResult) -> str:
    """Markdown for a result's rich repr (model text escaped)."""
    from ._result import result_markdown as render

    return render(result)


def plot_logprobs(
    result: ChatResult, kind: str = "tokens", ax: Axes | None = None, **options: Any
) -> Axes:
    """Plot a result's logprobs; see ``ChatResult.plot_logprobs``."""
    from ._plots import plot_logprobs as plot

    return plot(result, kind=kind, ax=ax, **options)


def logprobs_table(result: ChatResult, choice: int = 0) -> Any:
    """A result's logprobs as rows (a pandas DataFrame when pandas is installed)."""
    from ._plots import logprobs_table as table

    return table(result, choice=choice)


def prompt_heatmap(result: ChatResult, *, by: str = "prob", table: int = 10) -> Any:
    """A result's prompt coloured by surprise; see ``ChatResult.prompt_heatmap``."""
    from ._prompt_heatmap import prompt_heatmap as render

    return render(result, by=by, table=table)


def branch_html(branch: Branch) -> str:
    """A branch beside the reply it left (``Branch``'s rich repr)."""
    from ._branch import branch_html as render

    return render(branch)


def plot_grid(cells: list[dict[str, Any]], ax: Axes | None = None) -> Axes:
    """A grid's score and latency per cell; see ``GridResult.plot``."""
    from ._grid import plot_grid as plot

    return plot(cells, ax=ax)
