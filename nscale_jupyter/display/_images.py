"""Images of a thread's messages, for history and transcripts: inert HTML and plain text.

A ``data:`` image of the four formats (the kind ``--image`` makes) shows as a
small thumbnail ``<img>``, made from its bytes; a URL shows as text only, never
as a link or an ``<img>``, so the browser fetches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._images import describe_image, thumbnail
from .._types import ImagePart
from ._escape import escape_html

__all__ = ["image_html", "images_html", "images_text"]

_THUMB = "max-height:96px;max-width:160px;border:1px solid #ccc;margin:2px 4px 2px 0"


def image_html(part: ImagePart, side: int = 96) -> str:
    """A thumbnail of one of our ``data:`` images, else its description as text."""
    label = describe_image(part)
    thumb = thumbnail(part, side)
    if thumb is None:
        return f"<code>{escape_html(label)}</code>"
    text = escape_html(label)
    return f'<img src="{escape_html(thumb)}" alt="{text}" title="{text}" style="{_THUMB}">'


def images_html(parts: Iterable[ImagePart]) -> str:
    """A row of :func:`image_html`; ``""`` for none."""
    cells = [image_html(p) for p in parts]
    return f"<div style='margin:2px 0 2px 1em'>{''.join(cells)}</div>" if cells else ""


def images_text(parts: Iterable[ImagePart]) -> str:
    """One line per image (``[image: PNG 640x480, 12 kB]``)."""
    return "\n".join(describe_image(p) for p in parts)
