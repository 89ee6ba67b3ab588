"""matplotlib plots of a reply's logprobs, for teaching what a model does.

Every plot takes ``ax=None`` and returns the Axes (jupysql's convention).
Kinds that look at one position (``topk``, ``temperature``, ``filters``)
default to the position where the model was least sure (highest entropy of
its top-K): the tiny classroom model is sure of most tokens, and at such a
position every temperature or filter leaves one token with all the mass, so
the plot would show nothing move.
matplotlib is imported inside the functions, never at import time; figures
are made with the object-oriented API (no pyplot state to leak) and show
themselves as PNG in a notebook (``ax.figure``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._results import NEG_INF_SENTINEL, ChatResult, TokenLogprob
from .._sampling import entropy, most_uncertain
from ._tokens import align

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["KINDS", "logprobs_table", "plot_logprobs"]

KINDS = ("tokens", "topk", "entropy", "temperature", "filters")
NO_LOGPROBS = "this reply has no logprobs: ask with --logprobs --top-logprobs 5"


def _figure(width: float = 8.0, height: float = 3.0, rows: int = 1, cols: int = 1) -> Any:
    """A pyplot-free Figure that renders itself as PNG in Jupyter."""
    from matplotlib.figure import Figure

    class _ShownFigure(Figure):
        def _repr_png_(self) -> bytes:
            buf = io.BytesIO()
            self.savefig(buf, format="png", bbox_inches="tight")
            return buf.getvalue()

    fig = _ShownFigure(figsize=(width, height * rows))
    return fig, fig.subplots(rows, cols, squeeze=False)


def _entries(result: ChatResult, choice: int) -> list[TokenLogprob]:
    if not result.choices or choice >= len(result.choices):
        raise ValueError(f"no choice {choice} in this reply")
    entries = result.choices[choice].logprobs
    if not entries:
        raise ValueError(NO_LOGPROBS)
    return list(entries)


def _valid(lp: float) -> bool:
    return lp > NEG_INF_SENTINEL and math.isfinite(lp)


def _label(token: str) -> str:
    return token.replace("\n", "↵").replace(" ", "·") or "∅"


def _top(entry: TokenLogprob) -> list[tuple[str, float]]:
    """(token, logprob) alternatives sorted by probability; the chosen one included."""
    alts = {t.token: t.logprob for t in entry.top_logprobs if _valid(t.logprob)}
    if _valid(entry.logprob):
        alts.setdefault(entry.token, entry.logprob)
    return sorted(alts.items(), key=lambda kv: kv[1], reverse=True)


def default_position(entries: Sequence[TokenLogprob]) -> int:
    """Where the model was least sure: the highest entropy of the top-K (first on ties)."""
    return most_uncertain([[lp for _, lp in _top(e)] for e in entries])


def _softmax(logprobs: Sequence[float], temperature: float) -> list[float]:
    scaled = [lp / temperature for lp in logprobs]
    top = max(scaled)
    weights = [math.exp(s - top) for s in scaled]
    total = sum(weights)
    return [w / total for w in weights]


# -- the plot kinds -------------------------------------------------------------------
def plot_tokens(
    entries: list[TokenLogprob], ax: Axes, *, scale: str = "logprob", text: str | None = None
) -> Axes:
    """Log-probability (or probability) of each generated token along the reply."""
    xs = [i for i, e in enumerate(entries) if _valid(e.logprob)]
    ys = [entries[i].logprob for i in xs]
    if scale == "prob":
        ys = [math.exp(y) for y in ys]
    ax.plot(xs, ys, marker="o", markersize=3, linewidth=1)
    missing = [i for i, e in enumerate(entries) if not _valid(e.logprob)]
    if missing:
        low = min(ys, default=0.0)
        ax.plot(missing, [low] * len(missing), "x", color="red", label="-inf (p≈0)")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("token position")
    ax.set_ylabel("probability" if scale == "prob" else "log-probability")
    if len(entries) <= 40:
        pieces = [t.text if t.matched else t.entry.token for t in align(entries, text or "")]
        ax.set_xticks(range(len(entries)))
        ax.set_xticklabels([_label(p) for p in pieces], rotation=90, fontsize=8)
    ax.set_title("How likely was each token?")
    return ax


def _check(entries: list[TokenLogprob], position: int | None) -> int:
    if position is None:
        return default_position(entries)
    if not 0 <= position < len(entries):
        raise ValueError(f"position {position} is outside the reply (0..{len(entries) - 1})")
    return position


def plot_topk(entries: list[TokenLogprob], ax: Axes, *, position: int | None = None) -> Axes:
    """Bars of the top-k alternatives at one position; the chosen token highlighted.

    ``position`` defaults to the highest-entropy one (see the module doc).
    """
    position = _check(entries, position)
    entry = entries[position]
    alts = _top(entry)
    if not alts:
        raise ValueError(f"no alternatives at position {position} (ask with --top-logprobs K)")
    probs = [math.exp(lp) for _, lp in alts]
    colours = ["tab:orange" if tok == entry.token else "tab:blue" for tok, _ in alts]
    ax.bar(range(len(alts)), probs, color=colours)
    ax.set_xticks(range(len(alts)))
    ax.set_xticklabels([_label(t) for t, _ in alts], rotation=45, fontsize=8)
    ax.set_ylabel("probability")
    ax.set_title(f"position {position}: chosen {_label(entry.token)!r} (orange)")
    return ax


def plot_entropy(entries: list[TokenLogprob], ax: Axes) -> Axes:
    """Entropy of the top-k distribution per position, and the chosen token's surprisal.

    The highest-entropy position (the default of the one-position kinds) is
    marked "least sure".
    """
    xs, entropies, surprisal = [], [], []
    for i, entry in enumerate(entries):
        alts = _top(entry)
        if not alts or not _valid(entry.logprob):
            continue
        xs.append(i)
        entropies.append(entropy([lp for _, lp in alts]))
        surprisal.append(-entry.logprob)
    ax.plot(xs, entropies, label="entropy of top-k (estimate, nats)", linewidth=1.2)
    ax.plot(xs, surprisal, label="surprisal of chosen token (nats)", linewidth=1, alpha=0.7)
    least = default_position(entries)
    if least in xs:
        ax.annotate(
            f"least sure: {least}",
            xy=(least, entropies[xs.index(least)]),
            xytext=(0, 12),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            arrowprops={"arrowstyle": "->"},
        )
    ax.set_xlabel("token position")
    ax.set_ylabel("nats")
    ax.set_title("Uncertainty along the reply (entropy estimated from the top-k only)")
    ax.legend(fontsize=8)
    return ax


def plot_temperature(
    entries: list[TokenLogprob],
    ax: Axes,
    *,
    position: int | None = None,
    temperatures: Sequence[float] = (0.5, 1.0, 1.5),
) -> Axes:
    """The top-k distribution at a position, renormalised at other temperatures.

    ``position`` defaults to the highest-entropy one (see the module doc).
    """
    position = _check(entries, position)
    alts = _top(entries[position])
    if not alts:
        raise ValueError(f"no alternatives at position {position} (ask with --top-logprobs K)")
    if any(t <= 0 for t in temperatures):
        raise ValueError("temperatures must be > 0 (0 is greedy: all mass on the top token)")
    width = 0.8 / len(temperatures)
    for j, temperature in enumerate(temperatures):
        probs = _softmax([lp for _, lp in alts], temperature)
        xs = [i + (j - (len(temperatures) - 1) / 2) * width for i in range(len(alts))]
        ax.bar(xs, probs, width=width, label=f"T = {temperature:g}")
    ax.set_xticks(range(len(alts)))
    ax.set_xticklabels([_label(t) for t, _ in alts], rotation=45, fontsize=8)
    ax.set_ylabel("probability (renormalised over top-k)")
    ax.set_title(f"position {position}: what --temperature does to the choice")
    ax.legend(fontsize=8)
    return ax


def plot_filters(
    entries: list[TokenLogprob], ax: Axes, *, position: int | None = None, **knobs: Any
) -> Axes:
    """One position's top-K before and after each of vLLM's sampling filters.

    Knobs: ``temperature`` (default 1), ``top_p``, ``top_k``, ``min_p``; the
    stages follow vLLM's order (see :mod:`nscale_jupyter._sampling`) and the
    legend gives the mass each keeps. ``position`` defaults to the
    highest-entropy one (see the module doc).
    """
    from ._filters import plot_filters as draw

    position = _check(entries, position)
    entry = entries[position]
    return draw(_top(entry), ax, position=position, chosen=entry.token, **knobs)


def plot_logprobs(
    result: ChatResult,
    kind: str = "tokens",
    ax: Axes | None = None,
    *,
    choice: int | str = 0,
    **options: Any,
) -> Axes:
    """Plot one kind (``tokens``, ``topk``, ``entropy``, ``temperature``, ``filters``).

    ``choice="all"`` draws one row per choice and returns the first Axes
    (``ax.figure.axes`` holds them all). ``positions=[...]`` with ``topk``,
    ``temperature`` or ``filters`` draws a grid, one Axes per position;
    ``position`` defaults to the highest-entropy one of each choice (see the
    module doc for why).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown plot kind {kind!r}; one of {', '.join(KINDS)}")
    choices = list(range(len(result.choices))) if choice == "all" else [int(choice)]
    positions = options.pop("positions", None)
    cells = [(c, p) for c in choices for p in (positions or [options.pop("position", None)])]
    if ax is not None and len(cells) > 1:
        raise ValueError("ax= draws one plot: leave it out for several choices or positions")
    if ax is None:
        cols = len(positions) if positions else 1
        _, grid = _figure(rows=len(choices), cols=cols, width=max(8.0, 4.0 * cols))
        axes = [a for row in grid for a in row]
    else:
        axes = [ax]
    for target, (c, position) in zip(axes, cells, strict=True):
        entries = _entries(result, c)
        if kind == "tokens":
            plot_tokens(entries, target, text=result.choices[c].content, **options)
        elif kind == "topk":
            plot_topk(entries, target, position=position)
        elif kind == "entropy":
            plot_entropy(entries, target)
        elif kind == "filters":
            plot_filters(entries, target, position=position, **options)
        else:
            plot_temperature(entries, target, position=position, **options)
        if len(choices) > 1:
            target.set_title(f"choice {c}: " + target.get_title(), fontsize=9)
    first: Axes = axes[0]
    first.figure.tight_layout()  # type: ignore[union-attr]
    return first


def logprobs_table(result: ChatResult, choice: int = 0) -> Any:
    """Rows of (position, token, text, logprob, prob, top); a DataFrame with pandas."""
    entries = _entries(result, choice)
    rows = [
        {
            "position": t.position,
            "token": t.entry.token,
            "text": t.text,
            "logprob": t.logprob,
            "prob": 0.0 if t.logprob is None else math.exp(t.logprob),
            "top": [(tok, math.exp(lp)) for tok, lp in _top(t.entry)],
        }
        for t in align(entries, result.choices[choice].content or "")
    ]
    try:
        import pandas  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return rows
    return pandas.DataFrame(rows)
