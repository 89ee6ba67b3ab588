"""Escaping untrusted model text for the Markdown and HTML we emit."""

from __future__ import annotations

import html
import re

__all__ = ["MarkdownEscaper", "escape_html", "safe_markdown"]

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


class MarkdownEscaper:
    """Escapes Markdown as it streams in, line by line, remembering code fences.

    Complete lines are escaped once; only the unfinished last line is redone
    at each render, so a long reply costs time linear in its length.
    """

    __slots__ = ("_done", "_fence", "_tail")

    def __init__(self) -> None:
        self._done: list[str] = []
        self._tail: list[str] = []  # pieces of the unfinished last line
        self._fence: str | None = None

    def feed(self, text: str) -> None:
        if "\n" not in text:
            self._tail.append(text)  # no string copies per token: a long line stays linear
            return
        self._tail.append(text)
        head, _, rest = "".join(self._tail).rpartition("\n")
        self._tail = [rest] if rest else []
        for line in head.split("\n"):
            self._done.append(self._line(line + "\n"))

    def _line(self, line: str) -> str:
        match = _FENCE.match(line)
        if self._fence is None:
            if match:
                self._fence = match.group("fence")
                return line
            return _escape_prose(line)
        if match:
            fence = match.group("fence")
            if fence[0] == self._fence[0] and len(fence) >= len(self._fence):
                self._fence = None
        return line

    def value(self) -> str:
        done = "".join(self._done)
        self._done = [done] if done else []
        tail = "".join(self._tail)
        self._tail = [tail] if tail else []
        in_code = self._fence is not None or _FENCE.match(tail) is not None
        return done + (tail if in_code else _escape_prose(tail))


def safe_markdown(text: str) -> str:
    """Model text as Markdown that cannot carry HTML.

    Fenced code blocks stay as they are (Markdown shows them literally); an
    unterminated fence (a reply still streaming) counts as code to the end.
    """
    escaper = MarkdownEscaper()
    escaper.feed(text)
    return escaper.value()
