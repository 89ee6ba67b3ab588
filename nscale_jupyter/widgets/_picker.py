"""Click an alternative to branch: a cell's heatmap, made clickable (``%%chat --branch``).

Under a reply with logprobs: a position (the least sure token first) and one
button per alternative at it; a click continues the reply with that token
there (``result.branch``) and shows the original and the branch side by side.
A static page shows the heatmap's hover text instead: HTML alone cannot call
the kernel.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as w

from .._branching import alternatives, least_sure
from .._exceptions import NscaleError
from .._results import ChatResult
from ..display._branch import branch_html
from ..display._colours import error_html
from ._whatif import position_label, shown_token

__all__ = ["BranchPicker"]


class BranchPicker:
    """Buttons for the alternatives at one position of ``result``; a click branches."""

    def __init__(self, result: ChatResult, session: Any = None) -> None:
        self.result = result
        self.session = session
        self.entries = list(result.logprobs or ())
        self.branches = 0
        self.position = w.Dropdown(
            description="position",
            options=[(position_label(i, e), i) for i, e in enumerate(self.entries)],
            layout=w.Layout(width="30em"),
        )
        self.buttons = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.view = w.HTML()
        self.widget = w.VBox([
            w.HTML("<b>branch</b>: click an alternative to continue the reply with it here"),
            self.position, self.buttons, self.view,
        ])  # fmt: skip
        self.widget.add_class("nscale-branch-picker")
        self.position.observe(lambda _: self._fill(), "value")
        if self.entries:
            self.position.value = least_sure(self.entries)
            self._fill()

    def _fill(self) -> None:
        i = self.position.value
        if i is None:
            return
        buttons = []
        for rank, alt in enumerate(alternatives(self.entries[i])):
            button = w.Button(
                description=f"{shown_token(alt.token)} {math.exp(alt.logprob):.0%}",
                tooltip=f"branch at {i} with {alt.token!r}",
            )
            button.on_click(lambda _, rank=rank: self.pick(rank))
            buttons.append(button)
        self.buttons.children = buttons

    def pick(self, rank: int) -> None:
        """Branch at the chosen position with alternative ``rank`` (a button's click)."""
        self.view.value = "<i>branching…</i>"
        try:
            made = self.result.branch(self.position.value, rank, session=self.session)
        except NscaleError as exc:  # a server that cannot continue a message: one line
            self.view.value = error_html(str(exc))
            return
        self.branches += 1
        self.view.value = branch_html(made)
