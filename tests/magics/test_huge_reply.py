"""A huge reply (50,000 tokens from the FaultServer) streams with bounded memory and linear work.

No timings here (see benchmarks/bench_huge.py for those): memory is measured
with tracemalloc, and linear time is shown through the work that would make
it quadratic: characters escaped, display updates and display traffic.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

import nscale_jupyter._api as api
import nscale_jupyter.display._escape as escape_module
from nscale_jupyter._events import ContentDelta
from nscale_jupyter._magics import ChatMagics
from nscale_jupyter._session import Session
from nscale_jupyter.display._stream import ChatRenderer
from tests.servers.fault_server import FaultServer, text_reply

from .conftest import KEY, ipython_shell


def pieces(n: int) -> list[str]:
    """Varied tokens: words, multibyte text, markup to escape, a newline now and then."""
    return [f"w{i} " if i % 7 else f"ö<{i}>&`\n" for i in range(n)]


@dataclass
class Sink:
    """A display publisher that keeps counts, not the outputs (they would be the memory)."""

    updates: int = 0
    chars: int = 0

    def publish(self, data: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        self.updates += 1
        self.chars += sum(len(v) for v in data.values() if isinstance(v, str))

    def clear_output(self, wait: bool = False) -> None:
        pass


@dataclass
class Run:
    text: str
    peak: int
    escaped: int
    sink: Sink


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[InteractiveShell, FaultServer]]:
    monkeypatch.setattr(ChatMagics, "_terminal", lambda self: False)  # notebook rendering
    with FaultServer() as srv:
        ip = ipython_shell()
        api.set_default_session(Session(api_key=KEY))
        ip.run_line_magic("load_ext", "nscale_jupyter")
        api.default_session().settings.base_url = srv.base_url
        yield ip, srv
        ip.run_line_magic("unload_ext", "nscale_jupyter")
        ip.user_ns.pop("_", None)


def run_reply(
    ip: InteractiveShell, srv: FaultServer, n: int, monkeypatch: pytest.MonkeyPatch
) -> Run:
    sent = pieces(n)
    srv.enqueue(text_reply(sent))  # built before measuring: the server's copy is not ours
    escaped = [0]
    prose = escape_module._escape_prose

    def counting(text: str) -> str:
        escaped[0] += len(text)
        return prose(text)

    monkeypatch.setattr(escape_module, "_escape_prose", counting)
    sink, publisher = Sink(), ip.display_pub
    ip.display_pub = sink
    tracemalloc.start()
    try:
        ip.run_cell_magic("chat", "-m fake", f"{n} tokens please")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        ip.display_pub = publisher
    return Run("".join(sent), peak, escaped[0], sink)


def test_fifty_thousand_tokens(
    shell: tuple[InteractiveShell, FaultServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    ip, srv = shell
    small = run_reply(ip, srv, 10_000, monkeypatch)
    huge = run_reply(ip, srv, 50_000, monkeypatch)

    assert ip.user_ns["_"].text == huge.text  # every token arrived, in order
    assert api.default_session().thread().messages[-1].text == huge.text
    # Memory: what a reply must hold (the chunks' JSON bytes, the text, the
    # Markdown) grows with it; 5x the tokens takes ~4x the peak (measured
    # 18-19 MB vs 4.8-6.7 MB). Anything quadratic would be ~25x.
    assert huge.peak < 7 * small.peak, (huge.peak, small.peak)
    assert huge.peak < 48_000_000
    # Each character is escaped about once, not once per display update.
    assert huge.escaped < 1.1 * len(huge.text)
    # Updates space out as the reply grows (measured 13): traffic stays linear.
    assert huge.sink.updates < 60
    assert huge.sink.chars < 20 * 2 * len(huge.text)  # two mimetypes per update
    assert srv.wait_idle()


def test_display_traffic_is_bounded_by_time_not_by_tokens_squared() -> None:
    """With a simulated clock: traffic <= chars_per_second x duration + the last render."""
    now = [0.0]
    sizes: list[int] = []

    class Handle:
        def update(self, obj: dict[str, str], raw: bool = True) -> None:
            sizes.append(len(obj["text/markdown"]))

    def display(bundle: dict[str, str]) -> Handle:
        sizes.append(len(bundle["text/markdown"]))
        return Handle()

    renderer = ChatRenderer(display=display, clock=lambda: now[0], chars_per_second=50_000)
    text = pieces(50_000)
    for piece in text:  # 1,000 tokens a second
        now[0] += 0.001
        renderer.feed(ContentDelta(index=0, text=piece))
    renderer.finish()
    duration = now[0]
    assert sum(sizes[:-1]) <= 50_000 * duration + max(sizes)
    assert sizes[-1] >= len("".join(text))  # the final render has it all
    assert len(sizes) < duration / 0.05  # fewer updates than the 50 ms interval alone allows
