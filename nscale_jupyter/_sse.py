"""A byte-level Server-Sent Events decoder, per the SSE spec.

Lines are split on ``\\r\\n``, ``\\n`` or ``\\r`` at the byte level (a ``\\r``
ending one read may pair with a ``\\n`` starting the next), never with
``str.splitlines`` (which would also split on U+2028 and friends inside
JSON strings). Data stays bytes until the consumer parses it, so a
character split across reads is never decoded half-way.
"""

from __future__ import annotations

__all__ = ["SSEDecoder", "ServerSentEvent"]


class ServerSentEvent:
    """One dispatched event; ``data_bytes`` is the data lines joined with ``\\n``."""

    __slots__ = ("data_bytes", "event", "id", "retry")

    def __init__(
        self,
        data_bytes: bytes,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
    ) -> None:
        self.data_bytes = data_bytes
        self.event = event
        self.id = id
        self.retry = retry

    @property
    def data(self) -> str:
        return self.data_bytes.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"ServerSentEvent(event={self.event!r}, data={self.data!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return (self.data_bytes, self.event, self.id, self.retry) == (
            other.data_bytes,
            other.event,
            other.id,
            other.retry,
        )

    __hash__ = None  # type: ignore[assignment]


class SSEDecoder:
    """Feed it bytes as they arrive; it returns the events completed so far."""

    __slots__ = ("_data", "_event", "_last_id", "_pending", "_retry", "_skip_lf")

    def __init__(self) -> None:
        self._pending: list[bytes] = []  # bytes of an unfinished line
        self._skip_lf = False  # the last read ended with "\r"
        self._data: list[bytes] = []
        self._event: str | None = None
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one network read."""
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\n" not in chunk and b"\r" not in chunk:
            if chunk:
                self._pending.append(chunk)
            return []
        if self._pending:
            self._pending.append(chunk)
            chunk = b"".join(self._pending)
            self._pending = []
        if b"\r" in chunk:
            if chunk[-1:] == b"\r":
                self._skip_lf = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        rest = lines.pop()
        if rest:
            self._pending.append(rest)
        return self._lines(lines)

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: finish a last unterminated line, dispatch complete data.

        The spec discards an event that was not followed by a blank line; we
        dispatch it when its last line was complete (a final ``data: [DONE]\\n``
        with no blank line is common), and drop a line cut off mid-way.
        """
        self._pending = []
        self._skip_lf = False
        return self._lines([b""])

    def _lines(self, lines: list[bytes]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if line[:6] == b"data: ":
                data.append(line[6:])
            elif not line:
                if data:
                    payload = data[0] if len(data) == 1 else b"\n".join(data)
                    event = ServerSentEvent(payload, self._event, self._last_id, self._retry)
                    events.append(event)
                    data = self._data = []
                self._event = None
            elif line[:1] == b":":
                continue
            else:
                name, colon, value = line.partition(b":")
                if colon and value[:1] == b" ":
                    value = value[1:]
                if name == b"data":
                    data.append(value)
                elif name == b"event":
                    self._event = value.decode("utf-8", "replace")
                elif name == b"id":
                    if b"\0" not in value:
                        self._last_id = value.decode("utf-8", "replace")
                elif name == b"retry" and value.isdigit():
                    self._retry = int(value)
        return events
