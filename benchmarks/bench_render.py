"""Render cost of a 10,000-token stream: per token at the end vs at the start (issue 5).

The renderer is fed ContentDelta events with a clock that advances 1 ms a
token (so updates are coalesced at 20 a second as in a real stream), into a
display function that keeps the bundle like a front end would. The cost per
token over the last 1,000 tokens is compared with the first 1,000.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nscale_jupyter import ContentDelta
from nscale_jupyter.display._stream import ChatRenderer

N = 10_000


def one_run() -> tuple[float, float, int]:
    fake_now = [0.0]

    class Handle:
        def update(self, obj: Any, raw: bool = True) -> None:
            self.last = obj

    renderer = ChatRenderer(display=lambda bundle: Handle(), clock=lambda: fake_now[0])
    stamps = []
    words = [f"word{i % 50} " if i % 17 else "`code` *em*\n" for i in range(N)]
    for i, word in enumerate(words):
        fake_now[0] = i * 0.001
        start = time.perf_counter()
        renderer.feed(ContentDelta(0, word))
        stamps.append(time.perf_counter() - start)
    renderer.finish(None)
    first = sum(stamps[:1000]) / 1000
    last = sum(stamps[-1000:]) / 1000
    return first, last, renderer.updates


def main() -> None:
    runs = [one_run() for _ in range(5)]
    first = statistics.median(r[0] for r in runs)
    last = statistics.median(r[1] for r in runs)
    print(f"{N} tokens, 1 ms apart; display updates per run: {runs[0][2]}")
    print(f"  per-token cost, first 1,000: {first * 1e6:.2f} us; last 1,000: {last * 1e6:.2f} us")
    print(f"  end / start = {last / first:.2f}x (goal <= 2x)")


if __name__ == "__main__":
    main()
