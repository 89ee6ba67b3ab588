"""The sampling-filters plot: one position's distribution through vLLM's sampler.

Grouped bars, one colour per stage in vLLM's order (returned top-K,
temperature, min_p, top_k, top_p); the legend gives the probability mass
each stage keeps. The numbers come from :mod:`nscale_jupyter._sampling`.
:class:`FiltersPlot` draws its bars once and :meth:`FiltersPlot.update`
only changes their heights and labels, so a live what-if (the panel's
sliders) redraws without a new figure or a new request; :meth:`FiltersPlot.png`
then repaints only those artists over a cached background (blitting), since
drawing the axes and tick labels again is most of a full render.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._sampling import TOP_K_NOTE, FilterStage, filter_stages

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["STAGE_COLOURS", "FiltersPlot", "plot_filters"]

#: One colour per stage, in vLLM's order.
STAGE_COLOURS = ("tab:gray", "tab:blue", "tab:purple", "tab:green", "tab:orange")


def _label(token: str) -> str:
    return token.replace("\n", "↵").replace(" ", "·") or "∅"


def _legend_text(stage: FilterStage) -> str:
    if stage.name == "top-K":
        return f"{stage.label}: {stage.mass_kept:.0%} of all probability"
    if not stage.active:
        return stage.label
    return f"{stage.label}: keeps {stage.mass_kept:.0%}"


class FiltersPlot:
    """The filters view of one position, drawn on ``ax``; call :meth:`update` to redraw.

    ``alternatives`` are ``(token, logprob)`` pairs, most likely first;
    ``chosen`` (the token the reply took) gets an orange tick label.
    """

    def __init__(
        self,
        ax: Axes,
        alternatives: Sequence[tuple[str, float]],
        *,
        position: int,
        chosen: str | None = None,
    ) -> None:
        if not alternatives:
            raise ValueError(f"no alternatives at position {position} (ask with --top-logprobs K)")
        self.ax = ax
        self.position = position
        self.tokens = tuple(t for t, _ in alternatives)
        self.logprobs = tuple(lp for _, lp in alternatives)
        n, groups = len(alternatives), len(STAGE_COLOURS)
        width = 0.8 / groups
        self._bars = []
        for j, colour in enumerate(STAGE_COLOURS):
            xs = [i + (j - (groups - 1) / 2) * width for i in range(n)]
            self._bars.append(ax.bar(xs, [0.0] * n, width=width, color=colour, label=" "))
        ax.set_xticks(range(n))
        ax.set_xticklabels([_label(t) for t in self.tokens], rotation=45, fontsize=8)
        for tick, token in zip(ax.get_xticklabels(), self.tokens, strict=True):
            if token == chosen:
                tick.set_color("tab:orange")
                tick.set_fontweight("bold")
        ax.set_ylim(0.0, 1.05)
        ax.set_ylabel("probability (renormalised)")
        ax.set_xlabel(f"alternatives at position {position}, {TOP_K_NOTE}", fontsize=8)
        self._legend = ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        self.stages: tuple[FilterStage, ...] = ()
        self._background: Any = None
        # set_text later: keeps its layout. A fixed y: the automatic one is computed
        # while png() hides the title, and lands off the figure.
        self._title = ax.set_title("", fontsize=10, y=1.0)

    def update(
        self,
        *,
        temperature: float = 1.0,
        top_p: float | None = None,
        top_k: int | None = None,
        min_p: float | None = None,
    ) -> tuple[FilterStage, ...]:
        """Recompute the stages for these knobs and move the bars (no new artists)."""
        self.stages = filter_stages(
            self.logprobs, temperature=temperature, top_p=top_p, top_k=top_k, min_p=min_p
        )
        handles = getattr(self._legend, "legend_handles", None) or [None] * len(self._bars)
        for stage, bars, text, handle in zip(
            self.stages, self._bars, self._legend.get_texts(), handles, strict=True
        ):
            alpha = 1.0 if stage.active else 0.25
            if handle is not None:
                handle.set_alpha(alpha)
            for rect, p in zip(bars.patches, stage.probs, strict=True):
                rect.set_height(p)
                rect.set_alpha(alpha)
            bars.set_label(_legend_text(stage))
            text.set_text(_legend_text(stage))
        final = self.stages[-1]
        self._title.set_text(
            f"position {self.position}: vLLM samples from {final.survivors} of "
            f"{len(self.tokens)} (T → min_p → top_k → top_p)"
        )
        return self.stages

    def _moving(self) -> list[Any]:
        return [*(r for bars in self._bars for r in bars.patches), self._legend, self._title]

    def png(self) -> bytes:
        """The figure as PNG, fast enough for a slider: after the first call only
        the bars, legend and title are drawn again (the layout must not change
        in between, which :meth:`update` never does)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from PIL import Image

        fig: Any = self.ax.figure
        canvas = fig.canvas
        if not isinstance(canvas, FigureCanvasAgg) or self._background is None:
            canvas = FigureCanvasAgg(fig)
            moving = self._moving()
            for artist in moving:
                artist.set_visible(False)
            canvas.draw()
            self._background = canvas.copy_from_bbox(fig.bbox)
            for artist in moving:
                artist.set_visible(True)
        canvas.restore_region(self._background)
        for artist in self._moving():
            fig.draw_artist(artist)
        buf = io.BytesIO()
        size = canvas.get_width_height()
        Image.frombuffer("RGBA", size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
            buf, format="png", compress_level=1
        )
        return buf.getvalue()


def plot_filters(
    alternatives: Sequence[tuple[str, float]],
    ax: Axes,
    *,
    position: int,
    chosen: str | None = None,
    **knobs: Any,
) -> Axes:
    """Draw the filters view for one position and return the Axes."""
    unknown = set(knobs) - {"temperature", "top_p", "top_k", "min_p"}
    if unknown:
        raise TypeError(f"unknown filters option(s): {', '.join(sorted(unknown))}")
    FiltersPlot(ax, alternatives, position=position, chosen=chosen).update(**knobs)
    return ax
