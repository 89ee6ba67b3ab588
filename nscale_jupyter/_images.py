"""Images for a user turn: a source becomes an :class:`ImagePart`, once.

A source is a file path (PNG, JPEG, WebP or GIF, known by its first bytes,
not its suffix), an http(s) URL (sent as the URL: the server fetches it), a
``data:`` URI, raw bytes, a file object, a matplotlib ``Figure`` or a PIL
image (both found by duck typing, so neither library is imported here until
an image needs scaling). Local images travel as ``data:`` URIs; one whose
longest side is over ``max_side`` is scaled down and re-encoded, one that is
merely heavy is re-encoded when that makes it smaller, and one still over a
few MB after that warns (:class:`ImageWarning`): each image is sent again
with every later turn of its thread.

The thread keeps the part made here; later turns never encode it again.
:func:`thumbnail` makes the small picture that history and transcripts show,
and only for a ``data:`` URI of the four formats (never for a URL, which a
browser would fetch).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import re
import warnings
from collections import OrderedDict
from typing import Any

from ._exceptions import ImageError
from ._types import ImagePart

__all__ = [
    "MAX_SIDE",
    "REENCODE_BYTES",
    "WARN_BYTES",
    "ImageWarning",
    "describe_image",
    "image_part",
    "image_part_noted",
    "image_parts",
    "own_data",
    "sniff",
    "thumbnail",
]

#: The longest side a local image is sent at (larger ones are scaled down).
MAX_SIDE = 1568
#: An image heavier than this is re-encoded (kept only when that is smaller).
REENCODE_BYTES = 1_000_000
#: An image still heavier than this after encoding warns.
WARN_BYTES = 4_000_000
#: Larger inputs are refused before they are read.
MAX_INPUT_BYTES = 64_000_000

_OWN_URI = re.compile(r"data:image/(png|jpeg|gif|webp);base64,([A-Za-z0-9+/]*={0,2})\Z")
_KINDS = "a file path, an http(s) URL, bytes, a matplotlib Figure or a PIL image"


class ImageWarning(UserWarning):
    """An image is large (or could not be scaled): it costs time and tokens every turn."""


def sniff(data: bytes) -> str | None:
    """The MIME type of PNG, JPEG, GIF or WebP bytes, by their magic bytes; None for others."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_parts(sources: Any, *, max_side: int = MAX_SIDE) -> tuple[ImagePart, ...]:
    """:func:`image_part` of each source; one source (a path, bytes, a figure) is one image."""
    if isinstance(sources, list | tuple):
        return tuple(image_part(s, max_side=max_side) for s in sources)
    return (image_part(sources, max_side=max_side),)


def image_part(source: Any, *, max_side: int = MAX_SIDE, detail: str | None = None) -> ImagePart:
    """The image part for ``source`` (see the module doc); :class:`ImageError` if not an image."""
    if isinstance(source, ImagePart):
        return source
    if isinstance(source, str):
        text = source.strip()
        if text.lower().startswith(("http://", "https://")):
            if any(c.isspace() for c in text):
                raise ImageError(f"{text[:80]!r}: a URL has no spaces")
            return ImagePart(text, detail)
        if text.startswith("data:"):
            if not _OWN_URI.match(text):
                raise ImageError(
                    "a data: URI must be a base64 PNG, JPEG, GIF or WebP image "
                    f"(data:image/png;base64,...), got {text[:40]!r}..."
                )
            return ImagePart(text, detail)
        return _encode(_read(source), source, max_side, detail)
    if isinstance(source, os.PathLike):
        return _encode(_read(os.fspath(source)), os.fspath(source), max_side, detail)
    if isinstance(source, bytes | bytearray | memoryview):
        return _encode(bytes(source), "bytes", max_side, detail)
    if hasattr(source, "savefig"):  # a matplotlib Figure (or anything that saves like one)
        buffer = io.BytesIO()
        source.savefig(buffer, format="png", bbox_inches="tight")
        return _encode(buffer.getvalue(), "figure", max_side, detail)
    if type(source).__module__.startswith("PIL.") and hasattr(source, "save"):
        buffer = io.BytesIO()
        image = source if source.mode in ("RGB", "RGBA", "L", "LA", "P") else source.convert("RGB")
        image.save(buffer, format="PNG")
        return _encode(buffer.getvalue(), "PIL image", max_side, detail)
    if hasattr(source, "read"):
        data = source.read(MAX_INPUT_BYTES + 1)
        if isinstance(data, bytes | bytearray):
            return _encode(bytes(data), getattr(source, "name", "file"), max_side, detail)
    raise ImageError(
        f"cannot send a value of type {type(source).__name__} as an image: give {_KINDS}"
    )


def image_part_noted(source: Any) -> tuple[ImagePart, tuple[str, ...]]:
    """:func:`image_part` and the warnings it gave (each :class:`ImageWarning` always), as
    texts for a face to show its own way."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ImageWarning)
        part = image_part(source)
    return part, tuple(str(c.message) for c in caught)


def _read(path: str) -> bytes:
    expanded = os.path.expanduser(path)
    try:
        size = os.path.getsize(expanded)
        if size > MAX_INPUT_BYTES:
            raise ImageError(f"{path}: {size / 1e6:.0f} MB is too large for an image")
        with open(expanded, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise ImageError(f"no such image file: {path}") from None
    except IsADirectoryError:
        raise ImageError(f"{path} is a folder, not an image file") from None
    except OSError as exc:
        raise ImageError(f"cannot read {path}: {exc.strerror or exc}") from None


def _encode(data: bytes, label: str, max_side: int, detail: str | None) -> ImagePart:
    if len(data) > MAX_INPUT_BYTES:
        raise ImageError(f"{label}: {len(data) / 1e6:.0f} MB is too large for an image")
    mime = sniff(data)
    if mime is None:
        head = data[:8].hex(" ") if data else "nothing"
        raise ImageError(f"{label}: not a PNG, JPEG, WebP or GIF image (it starts with {head})")
    data, mime = _fit(data, mime, label, max_side)
    if len(data) > WARN_BYTES:
        warnings.warn(
            f"{label}: the image is {len(data) / 1e6:.1f} MB as sent; it goes again with "
            "every later turn of the thread (a smaller image is faster and cheaper)",
            ImageWarning,
            stacklevel=4,
        )
    return ImagePart(f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}", detail)


def _fit(data: bytes, mime: str, label: str, max_side: int) -> tuple[bytes, str]:
    """Scale down past ``max_side`` and re-encode when heavy (keeping the smaller)."""
    try:
        from PIL import Image, ImageOps
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        if len(data) > REENCODE_BYTES:
            warnings.warn(f"{label}: not scaled (Pillow is not installed)", ImageWarning, 4)
        return data, mime
    try:
        with Image.open(io.BytesIO(data)) as opened:
            too_big = max(opened.size) > max_side
            if not too_big and len(data) <= REENCODE_BYTES:
                return data, mime
            opened.seek(0)  # the first frame of an animation (as vLLM reads it)
            image = ImageOps.exif_transpose(opened)
            alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            image = image.convert("RGBA" if alpha else "RGB")
            if too_big:
                image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError(f"{label}: the {mime} image cannot be read ({exc})") from None
    candidates = [_save(image, "JPEG" if mime == "image/jpeg" and not alpha else "PNG")]
    if not alpha and len(candidates[0][0]) > REENCODE_BYTES and mime != "image/jpeg":
        candidates.append(_save(image, "JPEG"))  # a photo saved as PNG
    if not too_big:
        candidates.append((data, mime))  # re-encoding must pay for itself
    return min(candidates, key=lambda c: len(c[0]))


def _save(image: Any, fmt: str) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, format="JPEG", quality=85, optimize=True)
        return buffer.getvalue(), "image/jpeg"
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue(), "image/png"


# -- showing ---------------------------------------------------------------------------
def own_data(part: ImagePart) -> tuple[str, bytes] | None:
    """(MIME, bytes) of a ``data:`` URI of the four formats whose bytes match it; else None."""
    match = _OWN_URI.match(part.url)
    if match is None:
        return None
    try:
        data = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        return None
    mime = sniff(data)
    return (mime, data) if mime == f"image/{match.group(1)}" else None


#: Thumbnails made, by a digest of the image's URI (a cache must not hold the URIs:
#: they can be megabytes each, and a thread renewed should let them go).
_THUMBS: OrderedDict[tuple[bytes, int], str | None] = OrderedDict()


def _make_thumbnail(part: ImagePart, side: int) -> str | None:
    own = own_data(part)
    if own is None:
        return None
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        return None
    try:
        with Image.open(io.BytesIO(own[1])) as opened:
            image = opened.convert("RGBA")
            image.thumbnail((side, side), Image.Resampling.LANCZOS)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def thumbnail(part: ImagePart, side: int = 96) -> str | None:
    """A small PNG ``data:`` URI of an image we can show inline; None for a URL or other."""
    key = (hashlib.sha256(part.url.encode()).digest(), side)
    if key in _THUMBS:
        _THUMBS.move_to_end(key)
        return _THUMBS[key]
    thumb = _THUMBS[key] = _make_thumbnail(part, side)
    while len(_THUMBS) > 256:
        _THUMBS.popitem(last=False)
    return thumb


def describe_image(part: ImagePart) -> str:
    """One line for plain text: ``[image: PNG 640x480, 12 kB]`` or ``[image: URL]``."""
    own = own_data(part)
    if own is None:
        if part.url.startswith("data:"):
            return f"[image: {part.url[:30]}... ({len(part.url) // 1000} kB)]"
        return f"[image: {part.url}]"
    mime, data = own
    size = _dimensions(data)
    dims = f" {size[0]}x{size[1]}" if size else ""
    return f"[image: {mime.split('/')[1].upper()}{dims}, {max(1, len(data) // 1000)} kB]"


def _dimensions(data: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return image.size  # type: ignore[no-any-return]
    except Exception:  # a description never fails
        return None
