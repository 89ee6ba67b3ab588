"""Escaping untrusted model text for the Markdown and HTML we emit."""

from __future__ import annotations

import html
import re

__all__ = ["escape_html", "safe_markdown"]

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})", re.M)
_INLINE_CODE = re.compile(r"(`+)(?:.+?)\1", re.S)


def escape_html(text: str) -> str:
    """For HTML text and attribute values alike."""
    return html.escape(text, quote=True)


def _escape_prose(text: str) -> str:
    # Raw HTML in model output must not render: neutralise "<" (and "&", so
    # entities cannot be used to smuggle markup) outside code, where Markdown
    # shows text literally anyway.
    out, last = [], 0
    for match in _INLINE_CODE.finditer(text):
        out.append(text[last : match.start()].replace("&", "&amp;").replace("<", "&lt;"))
        out.append(match.group(0))
        last = match.end()
    out.append(text[last:].replace("&", "&amp;").replace("<", "&lt;"))
    return "".join(out)


def safe_markdown(text: str) -> str:
    """Model text as Markdown that cannot carry HTML.

    Fenced code blocks stay as they are (Markdown shows them literally); an
    unterminated fence (a reply still streaming) counts as code to the end.
    """
    out, pos, fence = [], 0, None
    for match in _FENCE.finditer(text):
        if fence is None:
            out.append(_escape_prose(text[pos : match.start()]))
            fence, pos = match.group("fence"), match.start()
        elif match.group("fence")[0] == fence[0] and len(match.group("fence")) >= len(fence):
            end = text.find("\n", match.end())
            end = len(text) if end < 0 else end + 1
            out.append(text[pos:end])
            fence, pos = None, end
    if fence is None:
        out.append(_escape_prose(text[pos:]))
    else:
        out.append(text[pos:])
    return "".join(out)
