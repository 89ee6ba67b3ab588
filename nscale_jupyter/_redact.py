"""Scrubbing the API key out of whatever a server sends back.

A server may repeat the key: in a 401 body ("Incorrect API key provided:
sk-..."), in a 500 body that quotes the ``Authorization`` header, in a
header, in an in-stream error, or in a reply itself. The client scrubs every
such text with the :class:`KeyRedactor` of its key before anything is built
from it, so exceptions, results, events, history, the footer and the saved
notebook never carry the key (nor ``Bearer <key>``, which becomes
``Bearer [API key hidden]``).

- Bytes (error bodies, each SSE event's data, non-streamed bodies): the key is
  replaced in place; the check is one ``bytes in`` per event.
- Whole error texts also lose any run of :data:`PARTIAL` or more characters
  copied from the key (a partial echo).
- Streamed text (content, reasoning, tool-call arguments) can split the key
  across chunks, which the per-chunk check cannot see: a :class:`TextGuard`
  per text stream holds back a tail that could be the start of the key, so
  the joined deltas (what a renderer shows) and the result never hold it. At
  most the key's first ``VISIBLE`` characters (typically a public "sk-") are
  shown before holding starts; a held start of the key that is left when the
  stream ends is masked too.
- Log records of httpx and httpcore (which log response headers at DEBUG)
  are scrubbed by a logging filter while a redactor is alive.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

__all__ = ["MASK", "KeyRedactor", "TextGuard"]

MASK = "[API key hidden]"
MIN_KEY = 8  # shorter "keys" (a local server's "EMPTY") are not worth masking text for
PARTIAL = 12  # error texts: a run this long copied from the key is masked too
VISIBLE = 3  # streamed text may show this many leading key characters before holding back


class KeyRedactor:
    """Masks one key (its repr never shows it; it cannot be pickled)."""

    __slots__ = ("__weakref__", "_bytes", "_key", "_mask_bytes")

    def __init__(self, key: str) -> None:
        self._key = key
        self._bytes = key.encode()
        self._mask_bytes = MASK.encode()
        _ACTIVE.add(self)
        _install_log_filter()

    @classmethod
    def for_key(cls, key: str | None) -> KeyRedactor | None:
        return cls(key) if key is not None and len(key) >= MIN_KEY else None

    def __repr__(self) -> str:
        return "<KeyRedactor ********>"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a key redactor is not picklable")

    # -- whole texts ---------------------------------------------------------
    def data(self, data: bytes) -> bytes:
        """One chunk of bytes as received: the key replaced (a fast ``in`` check first)."""
        if self._bytes in data:
            return data.replace(self._bytes, self._mask_bytes)
        return data

    def text(self, text: str) -> str:
        """A complete text: the key replaced."""
        if self._key in text:
            return text.replace(self._key, MASK)
        return text

    def error_text(self, text: str) -> str:
        """An error message or body: the key and any long run copied from it masked."""
        text = self.text(text)
        key, n = self._key, min(PARTIAL, len(self._key))
        if len(text) < n:
            return text
        spans: list[tuple[int, int]] = []
        for i in range(len(key) - n + 1):
            window = key[i : i + n]
            at = text.find(window)
            while at != -1:
                spans.append((at, at + n))
                at = text.find(window, at + 1)
        if not spans:
            return text
        spans.sort()
        out, last = [], 0
        start, end = spans[0]
        for s, e in [*spans[1:], (len(text) + 1, 0)]:
            if s <= end:
                end = max(end, e)
                continue
            out += [text[last:start], MASK]
            last, start, end = end, s, e
        out.append(text[last:])
        return "".join(out)

    def error_body(self, body: Any) -> Any:
        """An error body (bytes, text or parsed JSON), scrubbed throughout."""
        if isinstance(body, bytes):
            return self.error_text(body.decode("utf-8", "replace")).encode()
        if isinstance(body, str):
            return self.error_text(body)
        if isinstance(body, dict):
            return {self.error_body(k): self.error_body(v) for k, v in body.items()}
        if isinstance(body, list | tuple):
            return [self.error_body(v) for v in body]
        return body

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {k: self.error_text(v) for k, v in headers.items()}

    # -- streamed texts --------------------------------------------------------
    def guard(self) -> TextGuard:
        """A guard for one text that arrives in pieces."""
        return TextGuard(self)


class TextGuard:
    """Scrubs one streamed text piece by piece, the key split across pieces included.

    ``feed(piece)`` returns what may be shown now; ``pending()`` what a
    snapshot taken now should append (the mask, while a start of the key is
    held back). Joined, the returned pieces equal the whole text with the key
    masked, except that up to ``VISIBLE`` leading key characters may show
    before the mask.
    """

    __slots__ = ("_held", "_key", "_lead")

    def __init__(self, redactor: KeyRedactor) -> None:
        self._key = redactor._key
        self._lead = 0  # shown characters that begin the key (< VISIBLE + 1)
        self._held = ""  # characters held back: key[lead:lead + len(held)]

    def __repr__(self) -> str:
        return "<TextGuard>"

    def feed(self, piece: str) -> str:
        key = self._key
        n = len(key)
        if not self._lead and not self._held:  # the common case: nothing pending
            if key[0] not in piece[-(n - 1) :] and key not in piece:
                return piece
            text, shown = piece, 0
        else:
            text = key[: self._lead] + self._held + piece
            shown = self._lead  # text[:shown] is already on screen
        out: list[str] = []
        at = text.find(key)
        end = 0  # text before `end` is dealt with
        while at != -1:
            if at >= shown:
                out.append(text[max(shown, end) : at])
            out.append(MASK)
            end = shown = max(shown, at + n)
            at = text.find(key, end)
        # the longest tail of the text that could still become the key
        j = text.find(key[0], max(end, len(text) - n + 1))
        while j != -1 and not key.startswith(text[j:]):
            j = text.find(key[0], j + 1)
        if j == -1:
            out.append(text[max(shown, end) :])
            self._lead, self._held = 0, ""
        else:
            cut = max(shown, end, j + min(len(text) - j, VISIBLE))
            out.append(text[max(shown, end) : cut])
            self._lead, self._held = cut - j, text[cut:]
        return "".join(out)

    def pending(self) -> str:
        """The mask while part of the key is held back (for snapshots and the end)."""
        return MASK if self._held else ""


# -- log records -------------------------------------------------------------
_ACTIVE: weakref.WeakSet[KeyRedactor] = weakref.WeakSet()
_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


class _LogFilter(logging.Filter):
    """Scrubs the keys of live redactors from httpx/httpcore records (headers, reasons)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _ACTIVE:
            return True
        message = record.getMessage()
        scrubbed = message
        for redactor in list(_ACTIVE):
            scrubbed = redactor.error_text(scrubbed)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


_FILTER = _LogFilter()


def _install_log_filter() -> None:
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
