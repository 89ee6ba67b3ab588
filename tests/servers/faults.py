"""The faults of the reliability issue, as FaultServer replies with what the user should see.

Shared by the kernel test (nbclient) and the shell test (InteractiveShell), so
both front ends are held to the same expectations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.core import streams

from .fault_server import Reply, sse_events, text_reply

__all__ = ["FAULTS", "HELLO_TEXT", "Fault", "chunk"]


def chunk(content: str | None = None, finish: str | None = None) -> dict[str, Any]:
    """One chunk of model "fake": some content, or a finish reason."""
    delta = {"content": content} if content is not None else {}
    return streams.chunk(streams.choice(finish_reason=finish, **delta), model="fake")


HELLO = [chunk("Hel"), chunk("lo "), chunk("wörld 😀"), chunk("", "stop")]
HELLO_TEXT = "Hello wörld 😀"
_HELLO_BYTES = b"".join(sse_events(HELLO))
# Cut inside the two-byte "ö" and inside the four-byte emoji.
_CUTS = [_HELLO_BYTES.index("ö".encode()) + 1, _HELLO_BYTES.index("😀".encode()) + 2]


@dataclass
class Fault:
    """Replies to queue, and what the cell must show afterwards."""

    replies: list[Reply]
    shown: list[str] = field(default_factory=list)  # in the cell's display
    transient: list[str] = field(default_factory=list)  # shown while waiting, gone after
    message: str | None = None  # in the one stderr line (None: no error line)
    recorded: str | None = None  # the assistant text kept in history (None: turn not added)
    cut_off: bool = False  # the kept reply is marked as cut off
    timeout: float | None = None  # ChatSettings.timeout for this cell


def _gateway(status: int, title: str) -> Reply:
    return Reply(status=status, body=f"<html><title>{status} {title}</title></html>".encode())


FAULTS: dict[str, Fault] = {
    "drop": Fault(
        [Reply(events=sse_events([chunk("Half a "), chunk("story")]), drop_after=1)],
        shown=["Half a", "cut off"],
        message="connection broke",
        recorded="Half a ",
        cut_off=True,
    ),
    "stall": Fault(
        [Reply(events=sse_events([chunk("Waiting "), chunk("forever")]), stall_after=1)],
        shown=["Waiting", "cut off"],
        message="stalled: nothing arrived for 1 s",
        recorded="Waiting ",
        cut_off=True,
        timeout=1.0,
    ),
    "429": Fault(
        [
            Reply(
                status=429,
                body=b'{"error": {"message": "slow down"}}',
                headers={"retry-after": "0.2"},
            ),
            text_reply(["recovered"]),
        ],
        shown=["recovered"],
        transient=["retrying in 0.2 s (1/2): 429 slow down"],
        recorded="recovered",
    ),
    "500": Fault(
        [Reply(status=500, body=b'{"error": {"message": "engine exploded", "code": 500}}')],
        message="engine exploded",
    ),
    # Gateway statuses are retried twice, then reported.
    "502": Fault(
        [_gateway(502, "Bad Gateway")] * 3,
        shown=["(1/2): 502 Bad Gateway", "(2/2): 502 Bad Gateway"],  # seen while waiting
        message="502 Bad Gateway",
    ),
    "503": Fault(
        [_gateway(503, "Service Unavailable")] * 3,
        shown=["(1/2): 503 Service Unavailable", "(2/2): 503"],
        message="503 Service Unavailable",
    ),
    "malformed": Fault(
        [Reply(events=[*sse_events([chunk("Before ")], done=False), b"data: {oops\n\n"])],
        shown=["Before"],
        message="malformed",
        recorded="Before ",
        cut_off=True,
    ),
    "in_stream_error": Fault(
        [
            Reply(
                events=[
                    *sse_events([chunk("Partial ")], done=False),
                    b'data: {"error": {"message": "boom", "code": 500}}\n\n',
                    b"data: [DONE]\n\n",
                ]
            )
        ],
        shown=["Partial"],
        message="boom",
        recorded="Partial ",
        cut_off=True,
    ),
    "keepalive_crlf": Fault(
        [
            Reply(
                events=[b": ping\r\n\r\n", *[e.replace(b"\n", b"\r\n") for e in sse_events(HELLO)]]
            )
        ],
        shown=[HELLO_TEXT],
        recorded=HELLO_TEXT,
    ),
    "multibyte_split": Fault(
        [
            Reply(
                events=[
                    _HELLO_BYTES[: _CUTS[0]],
                    _HELLO_BYTES[_CUTS[0] : _CUTS[1]],
                    _HELLO_BYTES[_CUTS[1] :],
                ],
                interval=0.02,  # separate reads
            )
        ],
        shown=[HELLO_TEXT],
        recorded=HELLO_TEXT,
    ),
    "no_done": Fault(
        [Reply(events=sse_events(HELLO, done=False))],
        shown=[HELLO_TEXT, "cut off"],
        recorded=HELLO_TEXT,
        cut_off=True,
    ),
    "trickle": Fault(
        [Reply(events=sse_events(HELLO), interval=0.05)], shown=[HELLO_TEXT], recorded=HELLO_TEXT
    ),
    "hostile": Fault(
        [
            Reply(
                events=sse_events(
                    [
                        chunk('<img src=x onerror="alert(1)"><script>x()</script>'),
                        chunk("", "stop"),
                    ]
                )
            )
        ],
        shown=["&lt;img", "&lt;script>"],
        recorded='<img src=x onerror="alert(1)"><script>x()</script>',
    ),
}
