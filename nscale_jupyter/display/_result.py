"""A finished reply as one Markdown string: the result's rich repr.

Drawn by the stream renderer itself (the reply replayed as its events), so
a result shows exactly as the cell that streamed it: reasoning, text, tool
cards, heatmap and footer.
"""

from __future__ import annotations

from typing import Any

from .._results import ChatResult
from ._stream import Bundle, ChatRenderer

__all__ = ["reply_bundles", "result_markdown"]


def reply_bundles(result: ChatResult, *, cut_off: str | None = None) -> list[Bundle]:
    """The outputs a finished reply shows, in order (the reply, tool cards, heatmap)."""
    shown: list[Bundle] = []

    class Handle:
        def __init__(self, slot: int) -> None:
            self.slot = slot

        def update(self, obj: Any, raw: bool = True) -> None:
            shown[self.slot] = obj

    def display(bundle: Bundle) -> Handle:
        shown.append(bundle)
        return Handle(len(shown) - 1)

    logprobs = any(c.logprobs for c in result.choices)
    renderer = ChatRenderer(display=display, cards=True, logprobs=logprobs, interval=0)
    renderer.finish(result, cut_off=cut_off)
    return shown


def result_markdown(result: ChatResult) -> str:
    """Markdown for a result's rich repr (model text escaped)."""
    main, *parts = reply_bundles(result)
    # HTML in Markdown ends at a blank line: keep each part's newlines as entities.
    html = [p.get("text/html", "").replace("\n", "&#10;") for p in parts]
    body = main.get("text/markdown") or main.get("text/html", "").replace("\n", "&#10;")
    return "\n\n".join([body, *html])
