"""Load against the local vLLM engine: 200 requests at concurrency 16 (issue 10).

The same requests are sent by raw httpx (the floor: one POST, stream read to
the end, no parsing) and through the Python API (``achat``: option checks,
the session, our client and the accumulator), interleaved in rounds. We
report throughput of each, their ratio, and the client overhead per request
(p50/p99 of our latency minus raw httpx's, same requests), and the client's
CPU time per request, which the engine's speed does not move.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nscale_jupyter import achat
from nscale_jupyter._session import Session
from nscale_jupyter.local import start

REQUESTS = 200
CONCURRENCY = 16
ROUNDS = 3
PROMPTS = ["Hello!", "Count to five.", "Tell me a story.", "Hi there!"]


async def raw(base: str, model: str) -> list[float]:
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=120) as http:

        async def one(i: int) -> float:
            body = {
                "model": model,
                "messages": [{"role": "user", "content": PROMPTS[i % 4]}],
                "stream": True,
                "max_tokens": 16,
                "temperature": 0,
                "stream_options": {"include_usage": True},
            }
            async with gate:
                start_time = time.perf_counter()
                async with http.stream("POST", base + "/chat/completions", json=body) as r:
                    async for _ in r.aiter_bytes():
                        pass
                return time.perf_counter() - start_time

        return list(await asyncio.gather(*(one(i) for i in range(REQUESTS))))


async def ours(session: Session) -> list[float]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> float:
        async with gate:
            start_time = time.perf_counter()
            result = await achat(PROMPTS[i % 4], session=session, temperature=0, max_tokens=16)
            assert result.finish_reason in ("stop", "length")
            return time.perf_counter() - start_time

    return list(await asyncio.gather(*(one(i) for i in range(REQUESTS))))


def main() -> None:
    engine = start()
    try:
        session = Session()
        session.settings.base_url = engine.base_url
        session.settings.update_options({"model": engine.model})
        asyncio.run(ours(session))  # warm-up (engine caches, client connections)
        walls: dict[str, list[float]] = {"raw httpx": [], "nscale_jupyter": []}
        lat: dict[str, list[float]] = {"raw httpx": [], "nscale_jupyter": []}
        cpu: dict[str, list[float]] = {"raw httpx": [], "nscale_jupyter": []}
        for _ in range(ROUNDS):
            for name in walls:
                started, cpu_started = time.perf_counter(), time.process_time()
                if name == "raw httpx":
                    latencies = asyncio.run(raw(engine.base_url, engine.model))
                else:
                    latencies = asyncio.run(ours(session))
                walls[name].append(time.perf_counter() - started)
                cpu[name].append(time.process_time() - cpu_started)
                lat[name] += latencies
        print(f"{REQUESTS} requests at concurrency {CONCURRENCY}, {ROUNDS} interleaved rounds")
        rate = {n: REQUESTS / statistics.median(w) for n, w in walls.items()}
        for name in walls:
            q = statistics.quantiles(lat[name], n=100)
            print(
                f"  {name:<15} {rate[name]:6.1f} req/s   latency p50 {q[49] * 1000:6.1f} ms"
                f"  p99 {q[98] * 1000:6.1f} ms"
            )
        print(
            f"  nscale_jupyter / raw httpx throughput = "
            f"{rate['nscale_jupyter'] / rate['raw httpx']:.2f}x"
        )
        ours_q = statistics.quantiles(lat["nscale_jupyter"], n=100)
        raw_q = statistics.quantiles(lat["raw httpx"], n=100)
        print(
            f"  client overhead: p50 {(ours_q[49] - raw_q[49]) * 1000:+.1f} ms, "
            f"p99 {(ours_q[98] - raw_q[98]) * 1000:+.1f} ms (ours minus raw, same requests)"
        )
        # CPU time of this process (all its threads) per request: the client's own
        # cost, which the engine's speed (noisy on a shared machine) does not move.
        per = {n: statistics.median(c) / REQUESTS * 1000 for n, c in cpu.items()}
        print(
            f"  client CPU per request: raw httpx {per['raw httpx']:.2f} ms, "
            f"nscale_jupyter {per['nscale_jupyter']:.2f} ms "
            f"({per['nscale_jupyter'] - per['raw httpx']:+.2f} ms)"
        )
        session.close()
    finally:
        engine.stop()


if __name__ == "__main__":
    main()
