"""A huge reply through ``%%chat``: 10,000 vs 50,000 tokens from the FaultServer (issue 10).

The loopback FaultServer streams the reply from its own process (in ours it
would compete for the GIL); ``%%chat`` in IPython's test shell renders it as
in a notebook, into a display publisher that only counts. Raw httpx reading
the same stream is the floor. Sizes are interleaved over rounds; we print
the median wall time of each size and their ratio (linear is ~5x), the
display updates and traffic, and, in a separate pass, the tracemalloc peaks.
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nscale_jupyter._api as api
from nscale_jupyter._magics import ChatMagics
from nscale_jupyter._session import Session
from tests.magics.conftest import ipython_shell
from tests.servers.fault_server import FaultServer, text_reply

SIZES = (10_000, 50_000)
ROUNDS = 5


class Sink:
    def __init__(self) -> None:
        self.updates = 0
        self.chars = 0

    def publish(self, data: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        self.updates += 1
        self.chars += sum(len(v) for v in data.values() if isinstance(v, str))

    def clear_output(self, wait: bool = False) -> None:
        pass


def pieces(n: int) -> list[str]:
    return [f"w{i} " if i % 7 else f"ö<{i}>&`\n" for i in range(n)]


def serve(port_out: Any, stop: Any) -> None:
    """In a child process: a FaultServer replying ``int(prompt)`` tokens."""
    with FaultServer() as srv:
        srv.respond = lambda r: text_reply(pieces(int(r.json["messages"][-1]["content"])))
        port_out.send(srv.base_url)
        stop.wait()


def one(ip: Any, n: int, traced: bool) -> tuple[float, int, Sink]:
    sink, publisher = Sink(), ip.display_pub
    ip.display_pub = sink
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        ip.run_cell_magic("chat", "-m fake", str(n))
        took = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
    finally:
        tracemalloc.stop()
        ip.display_pub = publisher
    assert ip.user_ns["_"].text == "".join(pieces(n))
    return took, peak, sink


def floor(base_url: str, n: int) -> float:
    """The same stream read by raw httpx, no parsing: what the server and socket cost."""
    body = {"messages": [{"role": "user", "content": str(n)}]}
    started = time.perf_counter()
    with httpx.stream("POST", base_url + "/chat/completions", json=body) as response:
        for _ in response.iter_bytes():
            pass
    return time.perf_counter() - started


def main() -> None:
    ChatMagics._terminal = lambda self: False  # type: ignore[method-assign]  # notebook output
    ip = ipython_shell()
    receive, send = multiprocessing.Pipe(duplex=False)
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(send, stop), daemon=True)
    server.start()
    try:
        base_url = receive.recv()
        api.set_default_session(Session(api_key="sk-bench"))
        ip.run_line_magic("load_ext", "nscale_jupyter")
        api.default_session().settings.base_url = base_url
        one(ip, 1000, traced=False)  # warm-up
        times: dict[int, list[float]] = {n: [] for n in SIZES}
        floors: dict[int, list[float]] = {n: [] for n in SIZES}
        sinks: dict[int, Sink] = {}
        for _ in range(ROUNDS):
            for n in SIZES:
                took, _, sinks[n] = one(ip, n, traced=False)
                times[n].append(took)
                floors[n].append(floor(base_url, n))
        peaks = {n: one(ip, n, traced=True)[1] for n in SIZES}
        ip.run_line_magic("unload_ext", "nscale_jupyter")
    finally:
        stop.set()
        server.join(10)
    print(f"%%chat, notebook rendering, median of {ROUNDS} interleaved rounds")
    for n in SIZES:
        sink = sinks[n]
        print(
            f"  {n:>6} tokens: {statistics.median(times[n]):6.2f} s"
            f"  {n / statistics.median(times[n]):8.0f} tokens/s"
            f"  updates {sink.updates:3d}  display traffic {sink.chars / 1e6:5.1f} M chars"
            f"  peak {peaks[n] / 1e6:5.1f} MB"
            f"  (raw httpx read: {statistics.median(floors[n]):.2f} s)"
        )
    small, big = SIZES
    ratio = statistics.median(times[big]) / statistics.median(times[small])
    raw = statistics.median(floors[big]) / statistics.median(floors[small])
    print(
        f"  time {big}/{small} = {ratio:.2f}x (linear: {big / small:.0f}x; raw httpx: {raw:.2f}x)"
    )
    print(f"  peak memory {big}/{small} = {peaks[big] / peaks[small]:.2f}x")


if __name__ == "__main__":
    main()
