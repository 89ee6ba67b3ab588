"""The panel's images: those of the prompt it re-runs, and files uploaded to it.

A ``%%chat --image`` cell's prompt comes to the panel with its images, so a
panel run sends what the cell sent; "no images" sends the text alone. An
uploaded file goes through ``image_part`` as ``--image`` bytes do (checked,
scaled, re-encoded); a file that is no image is named, not sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ipywidgets as w

from .._exceptions import ImageError
from .._images import image_part_noted
from .._types import ImagePart
from ..display._escape import escape_html
from ..display._images import image_html

__all__ = ["PromptImages"]


class PromptImages:
    """An upload button, the images' thumbnails and a "no images" button."""

    def __init__(self) -> None:
        self.parts: tuple[ImagePart, ...] = ()
        self.upload = w.FileUpload(accept="image/*", multiple=True, description="image")
        self.label = w.HTML()
        self.clear = w.Button(description="no images", tooltip="send the prompt without images")
        self.box = w.HBox([self.upload, self.clear, self.label])
        self.box.add_class("nscale-panel-images")
        self.upload.observe(self._uploaded, "value")
        self.clear.on_click(lambda _: self.set(()))
        self.set(())

    def set(self, parts: Iterable[ImagePart], notes: Iterable[str] = ()) -> None:
        """Show ``parts`` as the prompt's images, with ``notes`` (plain text) below."""
        self.parts = tuple(parts)
        n = len(self.parts)
        count = f"{n} image{'' if n == 1 else 's'}" if n else "no images"
        lines = "".join(f"<div>{escape_html(note)}</div>" for note in notes)
        self.label.value = f"{count} {''.join(image_html(p, 48) for p in self.parts)}{lines}"
        self.clear.disabled = not self.parts

    def text(self) -> str:
        """What a plain-text view says of them (`` [+1 image]``); ``""`` for none."""
        n = len(self.parts)
        return f" [+{n} image{'' if n == 1 else 's'}]" if n else ""

    def _uploaded(self, change: dict[str, Any]) -> None:
        files = change["new"]
        if not files:
            return
        added, notes = [], []
        for file in files:
            try:
                part, warned = image_part_noted(bytes(file["content"]))
            except ImageError as exc:
                notes.append(f"{file['name']}: not sent: {exc}")
                continue
            added.append(part)
            notes += [f"{file['name']}: {text}" for text in warned]
        self.upload.value = ()  # taken in: the same file can be chosen again
        self.set((*self.parts, *added), notes)
