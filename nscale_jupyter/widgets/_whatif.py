"""The panel's what-if: the last reply's next-token distribution through vLLM's filters.

When the panel's reply has logprobs, a position selector (the least sure
token first: there sampling matters) and an image of that position's
distribution before and after each filter. Moving temperature, top_p,
top_k or min_p redraws the image at once from the returned top-K: no
request is sent (the settings change; only live mode or "sample" sends).
"sample" runs the prompt for real; "branch" continues the reply with the
chosen alternative at that position instead of the sampled token.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .._branching import alternatives, least_sure
from .._sampling import TOP_K_NOTE, entropy

if TYPE_CHECKING:  # pragma: no cover
    from .._results import ChatResult, TokenLogprob
    from ..display._filters import FiltersPlot

__all__ = ["KNOBS", "WhatIf", "position_label", "shown_token"]

#: The settings the what-if follows (the knobs of vLLM's sampler).
KNOBS = ("temperature", "top_p", "top_k", "min_p")


def shown_token(token: str) -> str:
    return repr(token)[1:-1] or "∅"


def position_label(i: int, entry: TokenLogprob) -> str:
    h = entropy([a.logprob for a in alternatives(entry)])
    return f"{i}: {shown_token(entry.token)} (entropy {h:.2f})"


class WhatIf:
    """The what-if box; ``show(result)`` fills it, the settings' knobs redraw it."""

    def __init__(
        self,
        settings: Any,
        *,
        on_sample: Callable[[], None],
        on_branch: Callable[[int, int], None],
    ) -> None:
        self.settings = settings
        self.entries: list[TokenLogprob] = []
        self.plot: FiltersPlot | None = None
        self.redraws = 0
        self.position = w.Dropdown(description="position", layout=w.Layout(width="30em"))
        self.image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.note = w.HTML()
        self.sample = w.Button(description="sample", tooltip="run the prompt for real")
        self.alternative = w.Dropdown(description="branch with", layout=w.Layout(width="22em"))
        self.branch = w.Button(
            description="branch", tooltip="continue the reply with this token here instead"
        )
        self.branch_view = w.HTML()
        self.sample.on_click(lambda _: on_sample())
        self.branch.on_click(lambda _: on_branch(self.position.value, self.alternative.value))
        self._filling = False
        self.position.observe(self._position_chosen, "value")
        settings.observe(lambda _: self.redraw(), list(KNOBS))
        self.box = w.VBox([
            w.HTML("<b>what if</b>: this position's next-token distribution through vLLM's "
                   f"sampling filters, as the sampling controls move ({TOP_K_NOTE})"),
            w.HBox([self.position, self.sample]), self.image, self.note,
            w.HBox([self.alternative, self.branch]), self.branch_view,
        ], layout=w.Layout(display="none"))  # fmt: skip
        self.box.add_class("nscale-panel-whatif")
        self.image.add_class("nscale-panel-whatif-image")
        self.branch_view.add_class("nscale-panel-branch")

    def show(self, result: ChatResult | None) -> None:
        """Follow a new reply: hidden without alternatives, else at its least sure token."""
        entries = list(result.logprobs or ()) if result is not None else []
        self.entries = entries if any(e.top_logprobs for e in entries) else []
        self.plot = None
        self.branch_view.value = ""
        if not self.entries:
            self.box.layout.display = "none"
            return
        self.box.layout.display = ""
        options = [(position_label(i, e), i) for i, e in enumerate(self.entries)]
        self._filling = True  # new options move the value: draw once, at the end
        try:
            self.position.options = options
            self.position.value = least_sure(self.entries)
        finally:
            self._filling = False
        self._position_moved()

    def _position_chosen(self, _: object) -> None:
        if not self._filling:
            self._position_moved()

    def _position_moved(self) -> None:
        if not self.entries or self.position.value is None:
            return
        from matplotlib.figure import Figure

        from ..display._filters import FiltersPlot

        i = self.position.value
        entry = self.entries[i]
        alts = alternatives(entry)
        self.alternative.options = [
            (f"{shown_token(a.token)} ({math.exp(a.logprob):.1%})", rank)
            for rank, a in enumerate(alts)
        ]
        self.alternative.value = 1 if len(alts) > 1 else 0
        fig = Figure(figsize=(9.0, 3.2), dpi=80)
        pairs = [(a.token, a.logprob) for a in alts]
        self.plot = FiltersPlot(fig.add_subplot(), pairs, position=i, chosen=entry.token)
        self.plot.update(**self.knobs())
        fig.tight_layout()  # laid out once, legend included: the redraws only move bars
        self.redraw()

    def knobs(self) -> dict[str, Any]:
        """The sampler's knobs as the settings have them (unset temperature: 1)."""
        values = {k: getattr(self.settings, k) for k in KNOBS}
        values["temperature"] = 1.0 if values["temperature"] is None else values["temperature"]
        return values

    def redraw(self) -> None:
        """Move the bars to the current knobs and show the image (no request)."""
        if self.plot is None:
            return
        knobs = self.knobs()
        stages = self.plot.update(**knobs)
        self.image.value = self.plot.png()
        self.redraws += 1
        sent = ", ".join(f"{k}={v:g}" for k, v in knobs.items() if v is not None)
        final = stages[-1]
        self.note.value = (
            f"<small>with {sent}: vLLM would sample from {final.survivors} of "
            f"{len(self.plot.tokens)} returned alternatives</small>"
        )

    def static_html(self) -> str:
        """The what-if as a page with no widgets shows it: plot (PNG) and note ("" if hidden)."""
        png = bytes(self.image.value or b"")
        if self.plot is None or not png:
            return ""
        data = base64.b64encode(png).decode()
        return (
            "<div class='nscale-whatif-snapshot'><b>what if</b> (position "
            f"{self.position.value})<br><img alt='what-if: the sampling filters at this "
            f"position' src='data:image/png;base64,{data}' style='max-width:100%'>"
            f"{self.note.value}</div>"
        )
