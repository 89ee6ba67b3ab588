"""Cassettes: what recording costs a live stream, and what a replayed cell takes.

- recording cost: the same long stream (bench_client's 20,000 chunks with
  top-5 logprobs, from a loopback server in its own process) through
  ``achat``, live versus live-and-recorded (mode ``record``, a fresh file
  each round), interleaved; goal: recording costs < 5% of throughput.
- replayed cell: the quickstart's first cell (``Hello!``) replayed from the
  committed cassette through the turn engine and the renderer a cell uses
  (rich, into a null display), no network; goal: < 50 ms a cell.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench_client import N_CHUNKS, SERVER, build_body  # noqa: E402

from nscale_jupyter import achat  # noqa: E402
from nscale_jupyter._session import Session  # noqa: E402
from nscale_jupyter._turn import TurnSpec  # noqa: E402
from nscale_jupyter._types import Message  # noqa: E402
from nscale_jupyter.display._turn import TurnRenderer  # noqa: E402
from scripts.encrypted_kernels import ENCRYPTED  # noqa: E402

ROUNDS = 9
CLOSED = "http://127.0.0.1:9/v1"


def stream_once(base: str, cassette: Path | None) -> tuple[float, float]:
    """(wall seconds until the answer is back, CPU seconds of this process including
    writing the cassette file, which happens after the answer is shown)."""
    session = Session()
    session.settings.base_url = base
    if cassette is not None:
        session.settings.cassette, session.settings.cassette_mode = str(cassette), "record"
    try:
        session.models()  # the model list ahead, as in a kernel
        cpu = time.process_time()
        start = time.perf_counter()
        result = asyncio.run(achat("go", session=session, model="tiny-chat", max_tokens=50_000))
        elapsed = time.perf_counter() - start
        assert len(result.logprobs or ()) == N_CHUNKS
    finally:
        session.close()  # writes what is left of the cassette
    return elapsed, time.process_time() - cpu


class _Null:
    def update(self, obj: Any, raw: bool = True, **kw: Any) -> None:
        pass


def replayed_cells(n: int = 30) -> list[float]:
    session = Session()
    session.settings.base_url = CLOSED
    session.settings.cassette = str(ROOT / "notebooks" / "cassettes" / "quickstart.jsonl")
    session.settings.cassette_mode = "replay"
    spec = TurnSpec(
        (Message.user("Hello!"),), thread=None, options={"temperature": 0.0, "max_tokens": 40}
    )
    times = []
    try:
        for _ in range(n):
            start = time.perf_counter()
            renderer = TurnRenderer(rich=True, display=lambda bundle, **kw: _Null())
            for event in session.turn(spec):
                renderer.feed(event)
            times.append((time.perf_counter() - start) * 1000)
            result = renderer.rounds[0].result
            assert renderer.ended and result is not None and result.model == "tiny-chat"
    finally:
        session.close()
    return times


def kernel_cells(n: int = 10) -> tuple[list[float], list[float]]:
    """ms per cell in a real kernel (nbclient's timing): a replayed ``%%chat`` cell, and
    an empty cell for what any cell costs there."""
    import os
    from datetime import datetime

    import nbformat
    from nbclient import NotebookClient

    tape = ROOT / "notebooks" / "cassettes" / "quickstart.jsonl"
    cells = ["%load_ext nscale_jupyter", "%chat models"]
    for _ in range(n):
        cells += ["pass", "%%chat --temperature 0 --max-tokens 40 --new\nHello!"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    old = os.environ.get("NSCALE_BASE_URL")
    os.environ["NSCALE_BASE_URL"] = CLOSED
    try:
        NotebookClient(
            nb,
            kernel_name="python3",
            config=ENCRYPTED,
            record_timing=True,
            extra_arguments=[
                f"--ChatSettings.cassette={tape}",
                "--ChatSettings.cassette_mode=replay",
            ],
        ).execute()
    finally:
        if old is None:
            os.environ.pop("NSCALE_BASE_URL", None)
        else:
            os.environ["NSCALE_BASE_URL"] = old

    def ms(cell: Any) -> float:
        t = cell.metadata["execution"]
        start = datetime.fromisoformat(t["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(t["shell.execute_reply"].replace("Z", "+00:00"))
        return (end - start).total_seconds() * 1000

    body = nb.cells[2:]
    assert all("tiny-chat" in str(c.outputs) for c in body[1::2]), body[1].outputs
    return [ms(c) for c in body[0::2]], [ms(c) for c in body[1::2]]


def main() -> None:
    body_path = ROOT / "build" / "bench_stream.sse"
    body_path.parent.mkdir(exist_ok=True)
    body_path.write_bytes(build_body())
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(body_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}/v1"
        times: dict[str, list[float]] = {"live": [], "recording": []}
        cpus: dict[str, list[float]] = {"live": [], "recording": []}
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(ROUNDS):  # interleaved, so machine noise hits both alike
                for name in times:
                    tape = Path(tmp) / f"round{i}.jsonl" if name == "recording" else None
                    wall, cpu = stream_once(base, tape)
                    times[name].append(wall)
                    cpus[name].append(cpu)
            size = (Path(tmp) / "round0.jsonl").stat().st_size
        rate = {k: N_CHUNKS / statistics.median(v) for k, v in times.items()}
        print(f"{N_CHUNKS} chunks with top-5 logprobs, median of {ROUNDS} interleaved rounds")
        for name, r in rate.items():
            print(
                f"  {name:<10} {r:>10,.0f} events/s ({statistics.median(times[name]):.3f} s; "
                f"CPU {statistics.median(cpus[name]):.3f} s with the file written)"
            )
        cost = 1 - rate["recording"] / rate["live"]
        extra = statistics.median(cpus["recording"]) / statistics.median(cpus["live"]) - 1
        print(
            f"  recording costs {cost:.1%} of stream throughput (goal < 5%); "
            f"+{extra:.0%} CPU in all, writing the {size / 1e6:.1f} MB file included"
        )
    finally:
        server.terminate()
        server.wait()
    cells = sorted(replayed_cells())
    print(
        f"  replayed cell (quickstart 'Hello!', turn + renderer, no network): median "
        f"{statistics.median(cells):.2f} ms, max {cells[-1]:.2f} ms (goal < 50 ms)"
    )
    empty, replayed = kernel_cells()
    print(
        f"  in a kernel: a replayed %%chat cell {statistics.median(replayed):.1f} ms, an empty "
        f"cell {statistics.median(empty):.1f} ms (median of {len(empty)}): the replay adds "
        f"{statistics.median(replayed) - statistics.median(empty):.1f} ms (goal < 50 ms)"
    )


if __name__ == "__main__":
    main()
