"""The panel's reply area: an ``Output`` widget whose outputs are set part by part.

Each part of a reply (its text, a tool card, a heatmap) is one slot, shown as
one ``display_data`` output, so a reply renders in the panel as it does in a
cell. A slot's display handle replaces that slot only.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

__all__ = ["ReplyArea"]

#: The mimetypes a reply slot keeps (the front end shows the richest).
_SHOWN = ("text/markdown", "text/html", "text/plain")


class ReplyArea:
    """The slots of the reply shown (``slots``) and the ``Output`` showing them."""

    def __init__(self) -> None:
        self.output = w.Output(layout=w.Layout(width="100%"))
        self.slots: list[dict[str, str]] = []  # the reply area: text, tool cards, heatmap
        self._metadata: dict[int, dict[str, Any]] = {}  # slot -> its output's metadata

    def clear(self) -> None:
        """Forget the slots (the next reply starts afresh); the view keeps them until then."""
        self.slots, self._metadata = [], {}

    def show(self, bundle: dict[str, str], metadata: dict[str, Any] | None = None) -> Any:
        """A display handle writing into a new slot (``TurnRenderer``'s ``display``)."""
        slot = len(self.slots)
        self.slots.append({})
        area = self

        class Handle:
            def update(self, obj: dict[str, str], raw: bool = True, metadata: Any = None) -> None:
                area.slots[slot] = {k: v for k, v in obj.items() if k in _SHOWN}
                if metadata:  # the answer's provenance, as a cell's output carries it
                    area._metadata[slot] = metadata
                area.render()

        handle = Handle()
        handle.update(bundle, metadata=metadata)
        return handle

    def append(self, bundle: dict[str, str]) -> None:
        """One more slot after the reply (an error below a cut-off answer)."""
        self.slots.append(bundle)
        self.render()

    def say(self, html: str) -> None:
        """A message in place of the reply (errors, hints); ``html`` is already escaped."""
        self.slots, self._metadata = [{"text/html": html}], {}
        self.render()

    def render(self) -> None:
        self.output.outputs = tuple(
            {"output_type": "display_data", "data": bundle, "metadata": self._metadata.get(i, {})}
            for i, bundle in enumerate(self.slots)
            if bundle
        )

    @property
    def markup(self) -> str:
        """What the area shows, as the Markdown/HTML it renders (escaped model text)."""
        return "".join(
            b.get("text/markdown") or b.get("text/html") or b.get("text/plain", "")
            for b in self.slots
        )
