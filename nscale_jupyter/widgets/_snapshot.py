"""Static forms of the widgets: what a page with no kernel or no JavaScript shows.

Each widget is displayed with a one-line ``text/plain`` saying what it is
(``display._static.show_widget``), not its repr. The panel also keeps a
snapshot beside its view, in an output of its own (updated through a
display handle when a run or a comparison ends): the last reply with the
options and prompt it was asked with, as Markdown, the same safe Markdown a
cell's reply is. A live notebook hides that snapshot under the panel with
one CSS rule (a page with no JavaScript has no panel, so it shows it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..display._escape import escape_html

__all__ = ["Snapshot", "panel_snapshot"]

#: Hide the snapshot right after a panel that rendered live (the panel's class is there).
_HIDE_WHEN_LIVE = (
    "<style>.jp-OutputArea-child:has(.nscale-panel) ~ "
    ".jp-OutputArea-child:has(.nscale-panel-snapshot){display:none}</style>"
)


def _html_in_markdown(html: str) -> str:
    """HTML in Markdown ends at a blank line: keep its newlines as entities."""
    return html.replace("\n", "&#10;")


def panel_snapshot(
    options: str,
    prompt: str,
    slots: Sequence[Mapping[str, str]],
    compared: str = "",
    whatif: str = "",
) -> dict[str, str]:
    """The panel as Markdown and text: the options, the prompt, the last reply.

    ``options`` (those the reply was asked with) and ``prompt`` are plain
    text; ``slots`` are the reply area's bundles (the reply's safe Markdown,
    its tool cards and heatmap as HTML); ``whatif`` and ``compared`` are the
    what-if's and the compare tab's HTML, escaped already.
    """
    head = (
        '<div class="nscale-panel-snapshot"><b>nscale panel</b> (a snapshot: the controls '
        "show in a running notebook)</div>\n\n"
        f"<div><code>options: {escape_html(options)}</code></div>\n\n"
        f"<div>prompt: <code>{_html_in_markdown(escape_html(prompt))}</code></div>"
    )
    parts = [_HIDE_WHEN_LIVE + head]
    plain = ["nscale panel (a snapshot)", f"options: {options}"]
    plain.append(f"prompt: {prompt}")
    for slot in slots:
        if "text/markdown" in slot:
            parts.append(slot["text/markdown"])
        elif "text/html" in slot:
            parts.append(_html_in_markdown(slot["text/html"]))
        plain.append(slot.get("text/plain", ""))
    if whatif:
        parts.append(_html_in_markdown(whatif))
    if compared:
        parts.append("<b>compare</b>" + _html_in_markdown(compared))
    if len(slots) == 0:
        parts.append("<i>no reply yet</i>")
    return {"text/markdown": "\n\n".join(parts), "text/plain": "\n\n".join(plain)}


class Snapshot:
    """The snapshot's output: shown once, then redrawn by ``update`` (``render`` draws it).

    Redrawn when a run or a comparison ends, not as a setting moves: each
    redraw re-sends the last reply (heatmap and all), and what a notebook
    saves must not depend on when a timer fired.
    """

    def __init__(self, render: Callable[[], dict[str, str]]) -> None:
        self.render = render
        self.updates = 0
        self._handle: Any = None

    def show(self) -> None:
        from IPython.display import display

        self._handle = display(self.render(), raw=True, display_id=True)

    def update(self) -> None:
        if self._handle is not None:
            self._handle.update(self.render(), raw=True)
            self.updates += 1
